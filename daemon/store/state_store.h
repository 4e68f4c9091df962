// StateStore: what the daemon keeps across restarts. All methods run on the
// engine sequence (not thread-safe). Every write is durable when it returns
// OK (the SQLite implementation commits with synchronous=FULL).
#ifndef CALLSD_DAEMON_STORE_STATE_STORE_H_
#define CALLSD_DAEMON_STORE_STATE_STORE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

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
  // Deletes the stored session (user info, token, session key, push key).
  virtual absl::Status ClearSession() = 0;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_STORE_STATE_STORE_H_
