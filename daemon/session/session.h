// Session: the authentication state machine of DESIGN.md "Semantics".
//
//   NOT_INITIALIZED --Init--> LOGGED_OUT --Authenticate--> AUTHENTICATING
//   AUTHENTICATING --ok--> AUTHENTICATED --expiry/revocation--> TOKEN_REQUIRED
//   TOKEN_REQUIRED --RefreshSessionToken/Authenticate--> AUTHENTICATED
//   any logged-in state --Deauthenticate--> LOGGED_OUT
//   any state --Init(other app)--> LOGGED_OUT (everything wiped)
//
// At start, a stored user is re-authenticated automatically (AUTHENTICATING,
// retried with capped backoff while the server cannot be reached).
//
// Threading: every method, and every callback it makes, runs on the engine
// sequence given at construction. Each `done` is called exactly once, never
// inline before the method returns when it involves the server, and always
// (at the latest with UNAVAILABLE from Shutdown()).
#ifndef CALLSD_DAEMON_SESSION_SESSION_H_
#define CALLSD_DAEMON_SESSION_SESSION_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "common/scheduler.h"
#include "daemon/backend/backend.h"
#include "daemon/events/events.h"
#include "daemon/store/state_store.h"

namespace callsd::daemon {

// Told about the session's life by Session; for the components that act on
// behalf of the user (push tokens, calls). Engine sequence only.
class SessionListener {
 public:
  virtual ~SessionListener() = default;
  // The session (re-)authenticated; `creds` hold the new session key.
  virtual void OnAuthenticated(const SessionCredentials& creds) {}
  // The session can no longer be used for requests (token expired or
  // revoked): pending work should wait for OnAuthenticated.
  virtual void OnSessionSuspended(const absl::Status& reason) {}
  // The user logged out, or the APP_ID changed (`app_changed`). Local state
  // is already gone; server-side clean-up is the SessionEnder's.
  virtual void OnSessionEnded(bool app_changed) {}
};

// Ends sessions on the server after the local state is gone: unregisters
// this device's push tokens, then ends the session key, retrying what cannot
// reach the server. Engine sequence only.
class SessionEnder {
 public:
  virtual ~SessionEnder() = default;
  // The server operations that end `old` (not yet stored: id 0).
  virtual std::vector<PendingOp> PlanEnd(const SessionCredentials& old,
                                         bool keep_push_tokens) = 0;
  // Runs `ops` (stored ones until the server confirms, unstored ones once).
  // `done(confirmed, pending)` once each was tried: `confirmed` when the
  // server acknowledged all of them, `pending` operations left for retry.
  virtual void Execute(std::vector<PendingOp> ops,
                       absl::AnyInvocable<void(bool confirmed, int pending) &&> done) = 0;
};

class Session {
 public:
  struct Options {
    absl::Duration token_refresh_lead = absl::Seconds(60);
    absl::Duration retry_initial = absl::Seconds(1);
    absl::Duration retry_max = absl::Seconds(60);
  };

  struct InitResult {
    bool changed = false;
    std::string previous_app_id;
  };

  template <typename T>
  using Done = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

  // None of the pointers is owned; all must outlive the Session.
  Session(Scheduler* engine, StateStore* store, Backend* backend, SessionEnder* ender,
          EventSink* events, Options options);
  ~Session();

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Registers a listener (not owned; must outlive the Session).
  void AddListener(SessionListener* listener) { listeners_.push_back(listener); }

  // Loads the APP_ID and the stored user. With a stored user whose token is
  // still usable, starts re-authenticating. Errors come from the store only.
  absl::Status Start();

  // Fails every pending callback with UNAVAILABLE ("shutting down") and
  // cancels the timers; later calls fail at once the same way.
  void Shutdown();

  // See callsd.proto Init. Validated arguments expected.
  void Init(const std::string& app_id, Done<InitResult> done);

  // See callsd.proto Authenticate. Answers with the snapshot after success.
  void Authenticate(const std::string& user_id, TokenKind kind, const std::string& token,
                    Done<SessionSnapshot> done);

  // Ends the session locally at once (store and memory), then asks the
  // SessionEnder to end it on the server and answers when the ender has
  // tried once. OK when nobody is logged in. FAILED_PRECONDITION/1800302
  // before Init.
  struct DeauthResult {
    bool server_confirmed = true;
    int pending_operations = 0;
  };
  void Deauthenticate(bool keep_push_tokens, Done<DeauthResult> done);

  // See callsd.proto RefreshSessionToken. Answers with the new expiry.
  void RefreshSessionToken(const std::string& token, Done<absl::Time> done);

  // A request made with the current session key was refused by the server
  // (400302/400309/400310): the session moves to TOKEN_REQUIRED. Statuses
  // without one of those codes are ignored.
  void OnSessionRejected(const absl::Status& status);

  // OK when a call-related method may run now; otherwise the status to
  // return: FAILED_PRECONDITION/1800302 before Init, UNAUTHENTICATED/1800303
  // when not authenticated.
  absl::Status CheckAuthenticated() const;

  // The credentials of the authenticated session; nullopt otherwise.
  std::optional<SessionCredentials> credentials() const;
  // The app and the stored session key of the logged-in user, authenticated
  // or not (the key may be dead); nullopt when nobody is logged in.
  std::optional<SessionCredentials> stored_credentials() const;

  const SessionSnapshot& snapshot() const { return snapshot_; }
  // The push key of the logged-in user's last authentication (kept while
  // re-authenticating, so that pushes can be checked); "" when none.
  const std::string& push_key() const {
    static const std::string* const kNone = new std::string();
    return stored_ ? stored_->push_key : *kNone;
  }
  SessionState state() const { return state_; }

 private:
  enum class Origin { kAuto, kLogin, kRefresh };

  // One authentication request to the server at a time.
  struct Attempt {
    uint64_t id = 0;
    Origin origin = Origin::kAuto;
    std::string user_id;
    TokenKind kind = TokenKind::kAccessToken;
    std::string token;
    // For kLogin / kRefresh: the caller, answered with the snapshot / expiry.
    Done<SessionSnapshot> login_done;
    Done<absl::Time> refresh_done;
    // The state to go back to when a kLogin / kRefresh fails.
    SessionState state_before = SessionState::kLoggedOut;
  };

  std::unique_ptr<Attempt> MakeAttempt(Origin origin, std::string user_id, TokenKind kind,
                                       std::string token) const;
  // FAILED_PRECONDITION while a login or refresh is in flight.
  absl::Status ExplicitAttemptAllowed() const;
  void StartExplicitAttempt(std::unique_ptr<Attempt> attempt);
  void StartAttempt(std::unique_ptr<Attempt> attempt);
  void OnAttemptDone(uint64_t id, absl::StatusOr<AuthResult> result);
  void OnAttemptSucceeded(std::unique_ptr<Attempt> attempt, AuthResult result);
  void OnAttemptFailed(std::unique_ptr<Attempt> attempt, absl::Status status);
  // Aborts the attempt in flight (its caller gets `status`).
  void AbortAttempt(const absl::Status& status);
  void ScheduleRetry(absl::Status why);
  void RetryNow();
  void ScheduleTokenTimers();
  void CancelTimers();
  void OnTokenWillExpire();
  void OnTokenExpired();
  void RequireToken(absl::Status reason);
  // Drops the in-memory session (not the store) and cancels its timers.
  void ForgetSession();

  void SetState(SessionState state, absl::Status reason = absl::OkStatus());
  void RefreshSnapshot();
  void Publish(DomainEvent event);
  SessionCredentials CurrentCredentials() const;

  // Constant after construction.
  Scheduler* const engine_;
  StateStore* const store_;
  Backend* const backend_;
  SessionEnder* const ender_;
  EventSink* const events_;
  const Options options_;

  // Engine sequence only.
  std::vector<SessionListener*> listeners_;
  bool shut_down_ = false;
  SessionState state_ = SessionState::kNotInitialized;
  std::optional<std::string> app_id_;
  // The logged-in user as stored (present from login until logout).
  std::optional<StoredSession> stored_;
  std::unique_ptr<Attempt> attempt_;
  uint64_t next_attempt_id_ = 1;
  Backoff backoff_;
  TimerId retry_timer_ = 0;
  TimerId warn_timer_ = 0;
  TimerId expiry_timer_ = 0;
  absl::Status last_error_;
  std::optional<absl::Time> next_retry_at_;
  SessionSnapshot snapshot_;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_SESSION_SESSION_H_
