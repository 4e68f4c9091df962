#include "daemon/session/session.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/fault_point.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace callsd::daemon {
namespace {

absl::Status ShuttingDown() { return absl::UnavailableError("callsd is shutting down"); }

absl::Status NotInitialized() {
  return CallsError(absl::StatusCode::kFailedPrecondition, kCodeNotInitialized,
                    "callsd is not initialized with an APP_ID",
                    /*field=*/{}, "run `callsctl init APP_ID` first");
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

bool IsSessionRejection(const absl::Status& status) {
  const std::optional<int> code = GetCallsCode(status);
  return code && (*code == kCodeInvalidAccessToken || *code == kCodeSessionKeyExpired ||
                  *code == kCodeSessionTokenRevoked);
}

}  // namespace

Session::Session(Scheduler* engine, StateStore* store, Backend* backend, SessionEnder* ender,
                 EventSink* events, Options options)
    : engine_(engine),
      store_(store),
      backend_(backend),
      ender_(ender),
      events_(events),
      options_(options),
      backoff_(options.retry_initial, options.retry_max) {}

Session::~Session() { CancelTimers(); }

absl::Status Session::Start() {
  ASSIGN_OR_RETURN(app_id_, store_->LoadAppId());
  if (!app_id_) {
    SetState(SessionState::kNotInitialized);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(stored_, store_->LoadSession());
  if (!stored_) {
    SetState(SessionState::kLoggedOut);
    return absl::OkStatus();
  }
  const absl::Time now = engine_->clock().Now();
  if (stored_->token_kind == TokenKind::kSessionToken && stored_->token_expires_at &&
      *stored_->token_expires_at <= now) {
    LOG(INFO) << "stored session token of " << stored_->user_id << " expired at "
              << Rfc3339(*stored_->token_expires_at) << "; waiting for a new one";
    RequireToken(WithHint(CallsError(absl::StatusCode::kUnauthenticated, kCodeSessionKeyExpired,
                                     absl::StrCat("the session token expired at ",
                                                  Rfc3339(*stored_->token_expires_at))),
                          "hand the daemon a new session token: callsctl refresh-token"));
    return absl::OkStatus();
  }
  LOG(INFO) << "re-authenticating " << stored_->user_id << " from the stored session";
  StartAttempt(MakeAttempt(Origin::kAuto, stored_->user_id, stored_->token_kind, stored_->token));
  return absl::OkStatus();
}

void Session::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  AbortAttempt(ShuttingDown());
  CancelTimers();
}

// --- Init -------------------------------------------------------------------

void Session::Init(const std::string& app_id, Done<InitResult> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  InitResult result;
  result.previous_app_id = app_id_.value_or("");
  if (app_id_ && *app_id_ == app_id) {
    result.changed = false;
    return std::move(done)(result);
  }
  const bool had_app = app_id_.has_value();
  const SessionCredentials old = CurrentCredentials();
  // What can be undone on the old app's server is tried once, after the
  // wipe (the operations are not stored: the old app is gone).
  std::vector<PendingOp> cleanup;
  if (stored_ && !old.session_key.empty()) cleanup = ender_->PlanEnd(old, false);

  // Wipe first in one transaction; nothing changes in memory if it fails.
  absl::Status reset = store_->ResetApp(app_id);
  if (!reset.ok()) {
    LOG(ERROR) << "cannot store the new APP_ID: " << reset;
    return std::move(done)(absl::Status(
        absl::StatusCode::kInternal,
        absl::StrCat("could not store the APP_ID in the state database: ", reset.message())));
  }
  AbortAttempt(CallsError(absl::StatusCode::kAborted, 0,
                          "the APP_ID changed while authenticating"));
  ForgetSession();
  last_error_ = absl::OkStatus();
  app_id_ = app_id;
  LOG(INFO) << (had_app ? "APP_ID changed from " + result.previous_app_id + " to " + app_id
                        : "initialized with APP_ID " + app_id);
  result.changed = true;
  Publish(AppChanged{app_id, result.previous_app_id});
  SetState(SessionState::kLoggedOut);
  if (had_app) {
    for (SessionListener* l : listeners_) l->OnSessionEnded(/*app_changed=*/true);
  }
  if (!cleanup.empty()) ender_->Execute(std::move(cleanup), [](bool, int) {});
  std::move(done)(result);
}

// --- Authenticate / refresh --------------------------------------------------

void Session::Authenticate(const std::string& user_id, TokenKind kind, const std::string& token,
                           Done<SessionSnapshot> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (!app_id_) return std::move(done)(NotInitialized());
  if (stored_ && stored_->user_id != user_id) {
    return std::move(done)(CallsError(
        absl::StatusCode::kFailedPrecondition, 0,
        absl::StrCat(stored_->user_id, " is logged in on this daemon"), {},
        "log out first: callsctl logout"));
  }
  if (absl::Status busy = ExplicitAttemptAllowed(); !busy.ok()) return std::move(done)(busy);
  auto attempt = MakeAttempt(Origin::kLogin, user_id, kind, token);
  attempt->login_done = std::move(done);
  StartExplicitAttempt(std::move(attempt));
}

void Session::RefreshSessionToken(const std::string& token, Done<absl::Time> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (!app_id_) return std::move(done)(NotInitialized());
  if (!stored_) {
    return std::move(done)(CallsError(absl::StatusCode::kUnauthenticated, kCodeNotAuthenticated,
                                      "nobody is logged in", {},
                                      "log in first: callsctl login USER --session-token"));
  }
  if (absl::Status busy = ExplicitAttemptAllowed(); !busy.ok()) return std::move(done)(busy);
  auto attempt = MakeAttempt(Origin::kRefresh, stored_->user_id, TokenKind::kSessionToken, token);
  attempt->refresh_done = std::move(done);
  StartExplicitAttempt(std::move(attempt));
}

absl::Status Session::ExplicitAttemptAllowed() const {
  if (attempt_ && attempt_->origin != Origin::kAuto) {
    return CallsError(absl::StatusCode::kFailedPrecondition, 0,
                      "another login or token refresh is in progress", {},
                      "wait for it to finish and try again");
  }
  return absl::OkStatus();
}

std::unique_ptr<Session::Attempt> Session::MakeAttempt(Origin origin, std::string user_id,
                                                       TokenKind kind, std::string token) const {
  auto attempt = std::make_unique<Attempt>();
  attempt->origin = origin;
  attempt->user_id = std::move(user_id);
  attempt->kind = kind;
  attempt->token = std::move(token);
  attempt->state_before = state_;
  return attempt;
}

void Session::StartExplicitAttempt(std::unique_ptr<Attempt> attempt) {
  // An explicit login or refresh replaces an automatic attempt (and its
  // retries).
  AbortAttempt(absl::OkStatus());
  StartAttempt(std::move(attempt));
}

void Session::StartAttempt(std::unique_ptr<Attempt> attempt) {
  attempt->id = next_attempt_id_++;
  engine_->Cancel(retry_timer_);
  retry_timer_ = 0;
  next_retry_at_.reset();
  const uint64_t id = attempt->id;
  const std::string user_id = attempt->user_id;
  const std::string token = attempt->token;
  attempt_ = std::move(attempt);
  // An authenticated session stays usable while its token is renewed.
  if (state_ != SessionState::kAuthenticated) {
    SetState(SessionState::kAuthenticating);
  } else {
    RefreshSnapshot();
  }
  VLOG(1) << "authenticating " << user_id << " (attempt " << id << ")";
  backend_->Authenticate(*app_id_, user_id, token,
                         [this, id](absl::StatusOr<AuthResult> result) {
                           OnAttemptDone(id, std::move(result));
                         });
}

void Session::OnAttemptDone(uint64_t id, absl::StatusOr<AuthResult> result) {
  if (!attempt_ || attempt_->id != id) return;  // superseded or aborted
  std::unique_ptr<Attempt> attempt = std::move(attempt_);
  if (result.ok() && result->session_key.empty()) {
    result = absl::UnavailableError("the calls server answered without a session key");
  }
  if (result.ok() && !result->user_id.empty() && result->user_id != attempt->user_id) {
    result = absl::UnavailableError(absl::StrCat("the calls server answered for user ",
                                                 result->user_id, " instead of ",
                                                 attempt->user_id));
  }
  if (result.ok()) {
    OnAttemptSucceeded(std::move(attempt), *std::move(result));
  } else {
    OnAttemptFailed(std::move(attempt), result.status());
  }
}

void Session::OnAttemptSucceeded(std::unique_ptr<Attempt> attempt, AuthResult result) {
  StoredSession s;
  s.user_id = attempt->user_id;
  s.nickname = result.nickname;
  s.token_kind = attempt->kind;
  s.token = attempt->token;
  if (attempt->kind == TokenKind::kSessionToken) s.token_expires_at = result.expires_at;
  s.session_key = std::move(result.session_key);
  s.push_key = std::move(result.push_key);
  s.authenticated_at = engine_->clock().Now();

  absl::Status saved = store_->SaveSession(s);
  if (!saved.ok()) {
    LOG(ERROR) << "cannot store the session of " << s.user_id << ": " << saved;
    // Retryable for an automatic attempt; an error for a caller.
    return OnAttemptFailed(
        std::move(attempt),
        absl::Status(attempt->origin == Origin::kAuto ? absl::StatusCode::kUnavailable
                                                      : absl::StatusCode::kInternal,
                     absl::StrCat("could not save the session to the state database: ",
                                  saved.message())));
  }
  stored_ = std::move(s);
  last_error_ = absl::OkStatus();
  backoff_.Reset();
  CancelTimers();
  LOG(INFO) << "authenticated as " << stored_->user_id
            << (stored_->token_kind == TokenKind::kSessionToken ? " with a session token"
                                                                  : " with an access token")
            << (stored_->token_expires_at
                    ? absl::StrCat(" expiring at ", Rfc3339(*stored_->token_expires_at))
                    : std::string());
  if (state_ == SessionState::kAuthenticated) {
    RefreshSnapshot();
    events_->StateChanged();
  } else {
    SetState(SessionState::kAuthenticated);
  }
  ScheduleTokenTimers();
  const SessionCredentials creds = CurrentCredentials();
  for (SessionListener* l : listeners_) l->OnAuthenticated(creds);
  if (attempt->login_done) std::move(attempt->login_done)(snapshot_);
  if (attempt->refresh_done) {
    std::move(attempt->refresh_done)(stored_->token_expires_at.value_or(absl::InfiniteFuture()));
  }
}

void Session::OnAttemptFailed(std::unique_ptr<Attempt> attempt, absl::Status status) {
  // Never a token in these messages: the backend's statuses carry none.
  if (status.code() == absl::StatusCode::kUnavailable && GetErrorHint(status).empty()) {
    status = CallsError(absl::StatusCode::kUnavailable, 0,
                        absl::StrCat("calls server unavailable: ", status.message()), {},
                        "check that the calls server (server.url) is up and reachable; "
                        "try again");
  }
  switch (attempt->origin) {
    case Origin::kAuto:
      if (status.code() == absl::StatusCode::kUnavailable) {
        ScheduleRetry(status);
      } else {
        LOG(WARNING) << "the stored credentials of " << attempt->user_id
                     << " were refused: " << status;
        RequireToken(WithHint(status, stored_ && stored_->token_kind == TokenKind::kSessionToken
                                          ? "hand the daemon a new session token: "
                                            "callsctl refresh-token"
                                          : "log in again: callsctl login USER"));
      }
      return;
    case Origin::kLogin:
    case Origin::kRefresh: {
      LOG(WARNING) << (attempt->origin == Origin::kLogin ? "login of " : "token refresh of ")
                   << attempt->user_id << " failed: " << status;
      if (state_ == SessionState::kAuthenticating) {
        // Back to where the caller found it.
        if (stored_ && attempt->state_before == SessionState::kAuthenticating) {
          ScheduleRetry(last_error_.ok() ? status : last_error_);
        } else if (stored_) {
          last_error_ = status;
          SetState(attempt->state_before == SessionState::kAuthenticated
                       ? SessionState::kTokenRequired  // expired meanwhile
                       : attempt->state_before,
                   status);
        } else {
          last_error_ = status;
          SetState(SessionState::kLoggedOut, status);
        }
      }
      if (attempt->login_done) std::move(attempt->login_done)(status);
      if (attempt->refresh_done) std::move(attempt->refresh_done)(status);
      return;
    }
  }
}

void Session::AbortAttempt(const absl::Status& status) {
  if (!attempt_) return;
  std::unique_ptr<Attempt> attempt = std::move(attempt_);
  if (attempt->login_done) std::move(attempt->login_done)(status);
  if (attempt->refresh_done) std::move(attempt->refresh_done)(status);
}

void Session::ScheduleRetry(absl::Status why) {
  last_error_ = std::move(why);
  const absl::Duration delay = backoff_.Next();
  next_retry_at_ = engine_->clock().Now() + delay;
  engine_->Cancel(retry_timer_);
  retry_timer_ = engine_->RunAfter(delay, [this] {
    retry_timer_ = 0;
    RetryNow();
  });
  LOG(WARNING) << "cannot authenticate " << (stored_ ? stored_->user_id : "") << " now ("
               << last_error_.message() << "); retrying in " << delay;
  if (state_ != SessionState::kAuthenticating) {
    SetState(SessionState::kAuthenticating, last_error_);
  } else {
    RefreshSnapshot();
    events_->StateChanged();
  }
}

void Session::RetryNow() {
  if (shut_down_ || !stored_ || attempt_) return;
  StartAttempt(MakeAttempt(Origin::kAuto, stored_->user_id, stored_->token_kind, stored_->token));
}

// --- Token expiry -------------------------------------------------------------

void Session::ScheduleTokenTimers() {
  if (!stored_ || stored_->token_kind != TokenKind::kSessionToken ||
      !stored_->token_expires_at) {
    return;
  }
  const absl::Time expires = *stored_->token_expires_at;
  const absl::Time warn_at = expires - options_.token_refresh_lead;
  // A token already inside the lead time is announced at once (posted, so
  // that the watcher sees the state change first).
  warn_timer_ = engine_->RunAt(warn_at, [this] {
    warn_timer_ = 0;
    OnTokenWillExpire();
  });
  expiry_timer_ = engine_->RunAt(expires, [this] {
    expiry_timer_ = 0;
    OnTokenExpired();
  });
}

void Session::CancelTimers() {
  engine_->Cancel(warn_timer_);
  engine_->Cancel(expiry_timer_);
  engine_->Cancel(retry_timer_);
  warn_timer_ = expiry_timer_ = retry_timer_ = 0;
}

void Session::OnTokenWillExpire() {
  if (state_ != SessionState::kAuthenticated || !stored_ || !stored_->token_expires_at) return;
  LOG(INFO) << "session token of " << stored_->user_id << " expires at "
            << Rfc3339(*stored_->token_expires_at) << "; asking watchers for a new one";
  Publish(SessionTokenWillExpire{*stored_->token_expires_at});
}

void Session::OnTokenExpired() {
  if (state_ != SessionState::kAuthenticated || !stored_ || !stored_->token_expires_at) return;
  LOG(WARNING) << "session token of " << stored_->user_id << " expired";
  RequireToken(WithHint(
      CallsError(absl::StatusCode::kUnauthenticated, kCodeSessionKeyExpired,
                 absl::StrCat("the session token expired at ",
                              Rfc3339(*stored_->token_expires_at))),
      "hand the daemon a new session token: callsctl refresh-token"));
}

void Session::OnSessionRejected(const absl::Status& status) {
  if (state_ != SessionState::kAuthenticated || !IsSessionRejection(status)) return;
  LOG(WARNING) << "the calls server refused the session of " << stored_->user_id << ": "
               << status.message();
  RequireToken(WithHint(status, stored_->token_kind == TokenKind::kSessionToken
                                    ? "hand the daemon a new session token: callsctl refresh-token"
                                    : "log in again: callsctl login USER"));
}

void Session::RequireToken(absl::Status reason) {
  engine_->Cancel(warn_timer_);
  engine_->Cancel(expiry_timer_);
  engine_->Cancel(retry_timer_);
  warn_timer_ = expiry_timer_ = retry_timer_ = 0;
  next_retry_at_.reset();
  last_error_ = reason;
  SetState(SessionState::kTokenRequired, reason);
  Publish(SessionTokenRequired{reason});
  for (SessionListener* l : listeners_) l->OnSessionSuspended(reason);
}

// --- Deauthenticate ---------------------------------------------------------

void Session::Deauthenticate(bool keep_push_tokens, Done<DeauthResult> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (!app_id_) return std::move(done)(NotInitialized());
  if (!stored_ && !attempt_) return std::move(done)(DeauthResult{});

  const SessionCredentials old = CurrentCredentials();
  // The server work is queued in the same transaction that forgets the
  // session: a crash leaves either the session or the queued work.
  std::vector<PendingOp> ops = ender_->PlanEnd(old, keep_push_tokens);
  absl::Status cleared = store_->ClearSession(&ops);
  if (!cleared.ok()) {
    LOG(ERROR) << "cannot delete the stored session: " << cleared;
    return std::move(done)(absl::Status(
        absl::StatusCode::kInternal,
        absl::StrCat("could not delete the stored session: ", cleared.message())));
  }
  const std::string user = stored_ ? stored_->user_id : std::string();
  AbortAttempt(CallsError(absl::StatusCode::kAborted, 0, "logged out while authenticating"));
  ForgetSession();
  last_error_ = absl::OkStatus();
  LOG(INFO) << "logged out" << (user.empty() ? "" : " " + user);
  SetState(SessionState::kLoggedOut);
  for (SessionListener* l : listeners_) l->OnSessionEnded(/*app_changed=*/false);
  ender_->Execute(std::move(ops), [done = std::move(done)](bool confirmed, int pending) mutable {
    std::move(done)(DeauthResult{confirmed, pending});
  });
}

void Session::ForgetSession() {
  CancelTimers();
  next_retry_at_.reset();
  backoff_.Reset();
  stored_.reset();
}

// --- State ------------------------------------------------------------------

absl::Status Session::CheckAuthenticated() const {
  if (!app_id_) return NotInitialized();
  if (state_ == SessionState::kAuthenticated) return absl::OkStatus();
  return CallsError(absl::StatusCode::kUnauthenticated, kCodeNotAuthenticated,
                    absl::StrCat("not authenticated (session is ", SessionStateName(state_), ")"),
                    {},
                    state_ == SessionState::kAuthenticating
                        ? "wait for the authentication to complete"
                        : "log in first: callsctl login USER --token-file FILE");
}

std::optional<SessionCredentials> Session::credentials() const {
  if (state_ != SessionState::kAuthenticated) return std::nullopt;
  return CurrentCredentials();
}

std::optional<SessionCredentials> Session::stored_credentials() const {
  if (!stored_) return std::nullopt;
  return CurrentCredentials();
}

SessionCredentials Session::CurrentCredentials() const {
  SessionCredentials creds;
  creds.app_id = app_id_.value_or("");
  if (stored_) creds.session_key = stored_->session_key;
  return creds;
}

void Session::SetState(SessionState state, absl::Status reason) {
  const SessionState previous = state_;
  state_ = state;
  FaultPoint("session.state");
  RefreshSnapshot();
  if (previous == state) {
    events_->StateChanged();
    return;
  }
  Publish(SessionStateChanged{state, previous, snapshot_.user_id, snapshot_.nickname,
                              std::move(reason)});
}

void Session::RefreshSnapshot() {
  SessionSnapshot s;
  s.app_id = app_id_.value_or("");
  s.state = state_;
  if (stored_) {
    s.user_id = stored_->user_id;
    s.nickname = stored_->nickname;
    s.token_kind = stored_->token_kind;
    s.token_expires_at = stored_->token_expires_at;
  } else if (attempt_) {
    s.user_id = attempt_->user_id;
    s.token_kind = attempt_->kind;
  }
  if (state_ != SessionState::kAuthenticated) s.last_error = last_error_;
  s.next_retry_at = next_retry_at_;
  snapshot_ = std::move(s);
}

void Session::Publish(DomainEvent event) {
  RefreshSnapshot();
  events_->Publish(std::move(event));
}

}  // namespace callsd::daemon
