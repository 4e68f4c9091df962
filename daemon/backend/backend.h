// Backend: the calls server's REST API as the daemon's domain sees it.
//
// Every method completes exactly once by calling `done` on the Scheduler the
// implementation was given (the engine sequence), never inline from within
// the call. Failures:
//   UNAVAILABLE  the server could not be reached, timed out, answered 5xx,
//                garbage or a truncated body (retry later);
//   INVALID_ARGUMENT  the request could not be formed (an empty push token,
//                a control character in a header value): nothing was sent;
//   otherwise    the server's error body: the status code that its Calls code
//                maps to (StatusCodeForServerCode) with the code attached
//                (GetCallsCode) and the server's message.
// At shutdown, requests still in flight complete with UNAVAILABLE.
// Implementations never log tokens, session keys or push keys.
#ifndef CALLSD_DAEMON_BACKEND_BACKEND_H_
#define CALLSD_DAEMON_BACKEND_BACKEND_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "wire/v1/wire.pb.h"

namespace callsd::daemon {

enum class PushType { kVoip, kRemote };

// "voip" / "remote": the path segment and the stored name.
inline const char* PushTypeName(PushType type) {
  return type == PushType::kVoip ? "voip" : "remote";
}

struct AuthResult {
  std::string session_key;
  // Set for a session-token login: the session key expires with the token.
  std::optional<absl::Time> expires_at;
  std::string user_id;
  std::string nickname;
  // Raw key of the HMAC-SHA256 on this user's push payloads.
  std::string push_key;
};

// Who is asking: the app and, once authenticated, the session key.
struct SessionCredentials {
  std::string app_id;
  std::string session_key;
};

class Backend {
 public:
  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;
  using StatusCallback = absl::AnyInvocable<void(absl::Status) &&>;

  virtual ~Backend() = default;

  // POST /v1/auth with an access token or a session token.
  virtual void Authenticate(const std::string& app_id, const std::string& user_id,
                            const std::string& token, Callback<AuthResult> done) = 0;

  // DELETE /v1/auth: the server forgets the session key.
  virtual void EndSession(const SessionCredentials& creds, StatusCallback done) = 0;

  // POST /v1/push/{type} {token, unique}.
  virtual void RegisterPushToken(const SessionCredentials& creds, PushType type,
                                 const std::string& token, bool unique,
                                 StatusCallback done) = 0;

  // DELETE /v1/push/{type}/{token}.
  virtual void UnregisterPushToken(const SessionCredentials& creds, PushType type,
                                   const std::string& token, StatusCallback done) = 0;

  // DELETE /v1/push/{type}.
  virtual void UnregisterAllPushTokens(const SessionCredentials& creds, PushType type,
                                       StatusCallback done) = 0;

  // GET /v1/calls?state=ringing: calls ringing for this user (missed-push
  // recovery).
  virtual void ListRingingCalls(const SessionCredentials& creds,
                                Callback<std::vector<wire::v1::CallInfo>> done) = 0;

  // POST /v1/calls/{call_id}/decline.
  virtual void DeclineCall(const SessionCredentials& creds, const std::string& call_id,
                           StatusCallback done) = 0;

  // GET /v1/call_logs?limit=&next=: the user's call log, newest first.
  virtual void ListCallLogs(const SessionCredentials& creds, int limit, const std::string& next,
                            Callback<wire::v1::CallList> done) = 0;

  // POST /v1/rooms {"type"}: a new room of `type` ("small" | "large"),
  // owned by this user.
  virtual void CreateRoom(const SessionCredentials& creds, const std::string& type,
                          Callback<wire::v1::RoomInfo> done) = 0;

  // GET /v1/rooms/{room_id}: the room, its participants and their audio.
  virtual void GetRoom(const SessionCredentials& creds, const std::string& room_id,
                       Callback<wire::v1::RoomInfo> done) = 0;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_BACKEND_BACKEND_H_
