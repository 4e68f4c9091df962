// StateStore: what the daemon keeps across restarts. All methods run on the
// engine sequence (not thread-safe). Every write is durable when it returns
// OK (the SQLite implementation commits with synchronous=FULL).
#ifndef CALLSD_DAEMON_STORE_STATE_STORE_H_
#define CALLSD_DAEMON_STORE_STATE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/backend/backend.h"
#include "daemon/calls/call.h"
#include "wire/v1/wire.pb.h"

namespace callsd::daemon {

enum class TokenKind { kAccessToken = 1, kSessionToken = 2 };

// The logged-in user and how to authenticate them again.
struct StoredSession {
  std::string user_id;
  std::string nickname;
  TokenKind token_kind = TokenKind::kAccessToken;
  std::string token;
  // Session tokens only.
  std::optional<absl::Time> token_expires_at;
  // Empty until the first successful authentication.
  std::string session_key;
  std::string push_key;
  std::optional<absl::Time> authenticated_at;
};

enum class PushTokenState { kPending = 1, kRegistered = 2, kFailed = 3 };

// A push device token of this device (an endpoint URL) and what the server
// said about it last.
struct StoredPushToken {
  PushType type = PushType::kVoip;
  std::string token;
  PushTokenState state = PushTokenState::kPending;
  // Ask the server to remove the user's other tokens of this type.
  bool unique = false;
  // Why it is pending (last failed try) or failed; 0 / empty otherwise.
  int error_code = 0;
  std::string error;
  absl::Time updated_at;
};

// Server-side work that must happen even if the daemon restarts first
// (unregistering push tokens, ending a session after logout). Carries the
// credentials it needs, since the local session may be gone.
struct PendingOp {
  enum class Kind { kUnregisterPush = 1, kUnregisterAllPush = 2, kEndSession = 3 };
  int64_t id = 0;  // 0: not stored (tried once, never retried)
  Kind kind = Kind::kEndSession;
  SessionCredentials creds;
  PushType type = PushType::kVoip;
  std::string token;
  int attempts = 0;
  absl::Time created_at;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // The stored APP_ID, or nullopt before the first Init.
  virtual absl::StatusOr<std::optional<std::string>> LoadAppId() = 0;

  // Makes `app_id` the stored APP_ID. When a different one was stored, every
  // call-related row (session, push tokens, calls, logs, pending work) is
  // deleted in the same transaction: either all of it happens or none.
  virtual absl::Status ResetApp(const std::string& app_id) = 0;

  // The stored session, or nullopt when nobody is logged in.
  virtual absl::StatusOr<std::optional<StoredSession>> LoadSession() = 0;
  // Replaces the stored session.
  virtual absl::Status SaveSession(const StoredSession& session) = 0;
  // Logout, in one transaction: deletes the stored session (user info,
  // token, session key, push key), marks every push token pending (they are
  // registered again at the next login) and queues `ops` (their ids are set).
  virtual absl::Status ClearSession(std::vector<PendingOp>* ops) = 0;

  // This device's push tokens, oldest first.
  virtual absl::StatusOr<std::vector<StoredPushToken>> LoadPushTokens() = 0;
  // Inserts or replaces the token with the same (type, token).
  virtual absl::Status SavePushToken(const StoredPushToken& token) = 0;
  // In one transaction: deletes the token (`token` set) or every token of
  // `type` (`token` empty) and queues `ops` (their ids are set).
  virtual absl::Status RemovePushTokens(PushType type, const std::string& token,
                                        std::vector<PendingOp>* ops) = 0;

  // Queued server operations, oldest first.
  virtual absl::StatusOr<std::vector<PendingOp>> LoadPendingOps() = 0;
  // Records another failed attempt.
  virtual absl::Status UpdatePendingOp(const PendingOp& op) = 0;
  // The server confirmed it (or it can never succeed): forget it.
  virtual absl::Status DeletePendingOp(int64_t id) = 0;

  // Calls this daemon knows (ringing, active, and ended ones kept to
  // recognise late pushes), inserted or replaced by call_id.
  virtual absl::Status SaveCall(const CallRecord& call) = 0;
  virtual absl::StatusOr<std::vector<CallRecord>> LoadCalls() = 0;
  // Forgets ended calls that ended before `before`.
  virtual absl::Status DeleteCallsEndedBefore(absl::Time before) = 0;

  // The user's call log as last fetched from the server (for offline
  // reading), inserted or replaced by call_id; newest first when loaded.
  virtual absl::Status SaveCallLog(const std::vector<wire::v1::CallInfo>& calls) = 0;
  virtual absl::StatusOr<std::vector<wire::v1::CallInfo>> LoadCallLog(int limit) = 0;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_STORE_STATE_STORE_H_
