// libcallsclient: the C++ client of callsd's local gRPC API.
//
// A Client talks to one callsd instance over its Unix socket. Every method is
// a thin wrapper over one RPC of proto/callsd/v1/callsd.proto (the contract:
// read its comments for what each call does); this header adds what the
// wrapper itself guarantees: how errors look, deadlines, and the lifetime of
// a Watch stream.
//
//   absl::StatusOr<std::unique_ptr<callsd::client::Client>> client =
//       callsd::client::Client::Connect({});
//   if (!client.ok()) { ...client.status()... }
//   absl::StatusOr<callsd::v1::State> state = (*client)->GetState({});
//
// Errors. A failed call returns an absl::Status with the gRPC code and
// message the daemon sent. When the daemon attached a callsd.v1.ErrorInfo
// (the Calls error code, the wrong request field, the access tier that was
// needed, a hint), GetErrorInfo() returns it. Connection problems are
// UNAVAILABLE or PERMISSION_DENIED with a message naming the socket path and
// an ErrorInfo whose hint says what to do.
//
// This header includes no gRPC header: only the generated protobuf messages.
#ifndef CALLSD_CLIENT_LIB_INCLUDE_CALLSD_CLIENT_H_
#define CALLSD_CLIENT_LIB_INCLUDE_CALLSD_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "callsd/v1/callsd.pb.h"

namespace callsd::client {

// The socket of the system instance (kiosk; systemd callsd.socket).
inline constexpr char kSystemSocketPath[] = "/run/callsd/callsd.sock";

// The absl::Status payload type URL under which a serialized
// callsd.v1.ErrorInfo is stored (see GetErrorInfo / WithErrorInfo).
inline constexpr char kErrorInfoTypeUrl[] = "type.googleapis.com/callsd.v1.ErrorInfo";

// The socket to use when none is configured, in this order:
//   1. $CALLSD_SOCKET when set and not empty;
//   2. /run/callsd/callsd.sock when that file exists (system instance);
//   3. $XDG_RUNTIME_DIR/callsd/callsd.sock when XDG_RUNTIME_DIR is set
//      (per-user instance, `systemctl --user`);
//   4. /run/callsd/callsd.sock otherwise (Connect then reports it missing).
// Reads the environment and the file system; thread-safe as long as nobody
// calls setenv() concurrently.
std::string DefaultSocketPath();

// Checks with a plain connect(2) that a daemon listens on `socket_path`, and
// closes the connection again. Returns OK when the connection was accepted
// (or the listen backlog is full: someone listens). Otherwise:
//   UNAVAILABLE        the path does not exist (callsd not running), nobody
//                      listens (stale socket: callsd died), or another error;
//   PERMISSION_DENIED  EACCES/EPERM: the caller may not open the socket
//                      (not in the socket's group);
//   INVALID_ARGUMENT   the path is empty or longer than a sockaddr_un holds.
// Every error names the path and carries an ErrorInfo with a hint.
absl::Status CheckDaemonSocket(absl::string_view socket_path);

// The ErrorInfo attached to `status`, or nullopt when there is none (OK
// status, a status that did not come from the daemon or from this library).
std::optional<callsd::v1::ErrorInfo> GetErrorInfo(const absl::Status& status);

// Returns `status` with `info` attached (replacing any ErrorInfo); an OK
// status is returned unchanged. For fakes and for code that builds errors
// in the same shape as the daemon's.
absl::Status WithErrorInfo(absl::Status status, const callsd::v1::ErrorInfo& info);

struct ClientOptions {
  // The daemon's socket. Empty: DefaultSocketPath().
  std::string socket_path;

  // Deadline of each unary call, counted from when the call starts.
  // absl::InfiniteDuration() (or a value <= 0): no deadline. Watch streams
  // have no deadline.
  absl::Duration deadline = absl::Seconds(30);
};

// A running Watch stream. Destroying it (or calling Cancel()) ends the
// stream.
class Subscription {
 public:
  Subscription() = default;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Same as Cancel().
  virtual ~Subscription() = default;

  // Cancels the stream. When Cancel() returns, no callback of this
  // subscription is running and none will start: events still in flight are
  // dropped and the end callback is NOT called for a stream cancelled this
  // way. Prompt: it does not wait for the daemon. Idempotent; thread-safe.
  //
  // Called from inside one of this subscription's own callbacks, it cancels
  // without waiting (the running callback is the last one).
  virtual void Cancel() = 0;
};

// Called for each event of a Watch stream, in the daemon's order (the first
// one is the snapshot), one at a time, on a gRPC thread. Must not block for
// long: the daemon drops watchers that fall behind.
using EventCallback = std::function<void(const callsd::v1::Event& event)>;

// Called once when the stream ends by itself (the daemon ended it, the
// daemon went away, or it dropped this watcher with RESOURCE_EXHAUSTED),
// after the last event callback, with the final status (an ErrorInfo is
// attached as for unary calls). Not called when the Subscription was
// cancelled first.
using EndCallback = std::function<void(absl::Status status)>;

// A connection to one callsd instance.
//
// Thread-safety: every method may be called from any thread, concurrently.
// Implementations: Connect() returns the gRPC one; tests may provide fakes.
class Client {
 public:
  // Checks `options.socket_path` (or DefaultSocketPath()) with
  // CheckDaemonSocket() and returns its error when the daemon cannot be
  // reached; otherwise returns a client over the gRPC channel "unix:PATH".
  // The gRPC connection itself is made by the first call.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);

  Client() = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Cancels the Watch streams still running (as Subscription::Cancel: no
  // callback runs after this returns, on_end is not called), waits for them,
  // then closes the channel. A Subscription may outlive its Client (it is
  // then already cancelled). Must not run inside a Watch callback; unary
  // calls still running in other threads are the caller's bug.
  virtual ~Client() = default;

  // The socket this client talks to.
  virtual const std::string& socket_path() const = 0;

  // One method per RPC of callsd.v1.Calls, same names and messages. Each
  // returns the daemon's response, or the daemon's error (see the top of
  // this file), or DEADLINE_EXCEEDED when no answer came within
  // ClientOptions::deadline, or UNAVAILABLE when the daemon cannot be
  // reached (naming the socket when it is gone or stale).
  virtual absl::StatusOr<callsd::v1::InitResponse> Init(
      const callsd::v1::InitRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::AuthenticateResponse> Authenticate(
      const callsd::v1::AuthenticateRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::DeauthenticateResponse> Deauthenticate(
      const callsd::v1::DeauthenticateRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::RefreshSessionTokenResponse> RefreshSessionToken(
      const callsd::v1::RefreshSessionTokenRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::State> GetState(
      const callsd::v1::GetStateRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::RegisterPushTokenResponse> RegisterPushToken(
      const callsd::v1::RegisterPushTokenRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::UnregisterPushTokenResponse> UnregisterPushToken(
      const callsd::v1::UnregisterPushTokenRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::UnregisterAllPushTokensResponse> UnregisterAllPushTokens(
      const callsd::v1::UnregisterAllPushTokensRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::ListPushTokensResponse> ListPushTokens(
      const callsd::v1::ListPushTokensRequest& request) = 0;

  // Calls. Same rules as above; the daemon's errors (e.g. NOT_FOUND with
  // Calls code 1400102 for an unknown call, FAILED_PRECONDITION when another
  // client answered first, UNAUTHENTICATED/1800303 before login) come back
  // with their ErrorInfo. A daemon too old to know a method answers
  // UNIMPLEMENTED; the message then names the method and the socket.
  virtual absl::StatusOr<callsd::v1::DialResponse> Dial(
      const callsd::v1::DialRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::AcceptResponse> Accept(
      const callsd::v1::AcceptRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::DeclineResponse> Decline(
      const callsd::v1::DeclineRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::EndResponse> End(const callsd::v1::EndRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::SetMutedResponse> SetMuted(
      const callsd::v1::SetMutedRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::ListCallsResponse> ListCalls(
      const callsd::v1::ListCallsRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::GetCallHistoryResponse> GetCallHistory(
      const callsd::v1::GetCallHistoryRequest& request) = 0;
  // The payload is passed on as is (the daemon checks its size, at most
  // 4096 bytes, and rejects a bad one with INVALID_ARGUMENT,
  // FAILED_PRECONDITION or PERMISSION_DENIED and the reason).
  virtual absl::StatusOr<callsd::v1::DeliverPushResponse> DeliverPush(
      const callsd::v1::DeliverPushRequest& request) = 0;

  // Rooms (group calls). Same rules as the calls; a full room, a deleted
  // one or a room this device is already in are FAILED_PRECONDITION with
  // the Calls code (1400120, 1400121, 1800700) in the ErrorInfo.
  virtual absl::StatusOr<callsd::v1::CreateRoomResponse> CreateRoom(
      const callsd::v1::CreateRoomRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::EnterRoomResponse> EnterRoom(
      const callsd::v1::EnterRoomRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::ExitRoomResponse> ExitRoom(
      const callsd::v1::ExitRoomRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::SetRoomMutedResponse> SetRoomMuted(
      const callsd::v1::SetRoomMutedRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::DeleteRoomResponse> DeleteRoom(
      const callsd::v1::DeleteRoomRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::GetRoomResponse> GetRoom(
      const callsd::v1::GetRoomRequest& request) = 0;
  virtual absl::StatusOr<callsd::v1::ListRoomsResponse> ListRooms(
      const callsd::v1::ListRoomsRequest& request) = 0;

  // Starts WatchEvents. `on_event` receives every event in order; `on_end`
  // receives the final status when the stream ends by itself (see
  // EndCallback). Callbacks may run before Watch() returns (e.g. on_end when
  // the daemon refuses the stream). Both callbacks must be set.
  //
  // Destroying the returned Subscription cancels the stream and waits until
  // no callback runs any more (see Subscription::Cancel()).
  virtual std::unique_ptr<Subscription> Watch(EventCallback on_event, EndCallback on_end) = 0;
};

}  // namespace callsd::client

#endif  // CALLSD_CLIENT_LIB_INCLUDE_CALLSD_CLIENT_H_
