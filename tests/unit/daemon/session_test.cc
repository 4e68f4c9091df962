// Session state machine with a fake backend, an in-memory store and
// simulated time: every transition of DESIGN.md "Session", no sleeping.
#include "daemon/session/session.h"

#include <optional>

#include "common/calls_error.h"
#include "common/testing/simulated_scheduler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/daemon/fakes/answer.h"
#include "tests/unit/daemon/fakes/fake_backend.h"
#include "tests/unit/daemon/fakes/fake_state_store.h"
#include "tests/unit/daemon/fakes/recording_event_sink.h"

namespace callsd::daemon {
namespace {

using ::callsd::testing::SimulatedScheduler;
using ::testing::ElementsAre;
using testing::Answer;
using testing::FakeBackend;
using testing::FakeStateStore;
using testing::RecordingEventSink;

class RecordingEnder final : public SessionEnder {
 public:
  std::vector<PendingOp> PlanEnd(const SessionCredentials& old, bool keep_push_tokens) override {
    ended.push_back(old);
    keep.push_back(keep_push_tokens);
    PendingOp op;
    op.kind = PendingOp::Kind::kEndSession;
    op.creds = old;
    return {op};
  }
  void Execute(std::vector<PendingOp> ops, absl::AnyInvocable<void(bool, int) &&> done) override {
    executed.insert(executed.end(), ops.begin(), ops.end());
    std::move(done)(confirm, confirm ? 0 : static_cast<int>(ops.size()));
  }
  std::vector<SessionCredentials> ended;
  std::vector<bool> keep;
  std::vector<PendingOp> executed;
  bool confirm = true;
};

class RecordingListener final : public SessionListener {
 public:
  void OnAuthenticated(const SessionCredentials& creds) override { authenticated.push_back(creds); }
  void OnSessionSuspended(const absl::Status& reason) override { suspended.push_back(reason); }
  void OnSessionEnded(bool app_changed) override { ended.push_back(app_changed); }
  std::vector<SessionCredentials> authenticated;
  std::vector<absl::Status> suspended;
  std::vector<bool> ended;
};

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() { MakeSession(); }

  void MakeSession() {
    session_ = std::make_unique<Session>(&scheduler_, &store_, &backend_, &ender_, &events_,
                                         options_);
    session_->AddListener(&listener_);
  }

  // Simulates a daemon restart on the same store.
  void Restart() {
    session_->Shutdown();
    scheduler_.RunUntilIdle();
    backend_.auth_calls.clear();
    events_ = RecordingEventSink();
    MakeSession();
    ASSERT_TRUE(session_->Start().ok());
    scheduler_.RunUntilIdle();
  }

  void InitApp(const std::string& app = "app-1") {
    Answer<Session::InitResult> answer;
    session_->Init(app, answer.Callback());
    scheduler_.RunUntilIdle();
    ASSERT_TRUE(answer.ready());
    ASSERT_TRUE(answer.get().ok()) << answer.get().status();
  }

  // Logs `user` in with the backend answering `result`.
  absl::StatusOr<SessionSnapshot> Login(const std::string& user, TokenKind kind,
                                        absl::StatusOr<AuthResult> result,
                                        const std::string& token = "tok") {
    Answer<SessionSnapshot> answer;
    session_->Authenticate(user, kind, token, answer.Callback());
    scheduler_.RunUntilIdle();
    EXPECT_FALSE(answer.ready()) << "answered before the server did";
    backend_.AnswerAuth(std::move(result));
    scheduler_.RunUntilIdle();
    EXPECT_TRUE(answer.ready());
    return answer.get();
  }

  SimulatedScheduler scheduler_;
  FakeStateStore store_;
  FakeBackend backend_{&scheduler_};
  RecordingEnder ender_;
  RecordingEventSink events_;
  RecordingListener listener_;
  Session::Options options_{absl::Seconds(60), absl::Seconds(1), absl::Seconds(30)};
  std::unique_ptr<Session> session_;
};

absl::Status ServerError(int code) {
  return CallsError(StatusCodeForServerCode(code), code, "server said no");
}

TEST_F(SessionTest, StartsNotInitializedAndRefusesLoginWith1800302) {
  ASSERT_TRUE(session_->Start().ok());
  EXPECT_EQ(session_->state(), SessionState::kNotInitialized);

  Answer<SessionSnapshot> answer;
  session_->Authenticate("alice", TokenKind::kAccessToken, "tok", answer.Callback());
  ASSERT_TRUE(answer.ready());
  EXPECT_EQ(answer.get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetCallsCode(answer.get().status()), kCodeNotInitialized);
  EXPECT_THAT(GetErrorHint(answer.get().status()), ::testing::HasSubstr("callsctl init"));
  EXPECT_TRUE(backend_.auth_calls.empty());
  EXPECT_EQ(session_->CheckAuthenticated().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SessionTest, InitStoresAppAndSameAppIsANoOp) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp("app-1");
  EXPECT_EQ(store_.app_id, "app-1");
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut);
  EXPECT_THAT(events_.States(), ElementsAre(SessionState::kLoggedOut));
  ASSERT_EQ(events_.Of<AppChanged>().size(), 1u);

  const size_t events_before = events_.events.size();
  Answer<Session::InitResult> again;
  session_->Init("app-1", again.Callback());
  ASSERT_TRUE(again.ready() && again.get().ok());
  EXPECT_FALSE(again.get()->changed);
  EXPECT_EQ(events_.events.size(), events_before);
  EXPECT_EQ(store_.resets, 1);
  EXPECT_EQ(session_->CheckAuthenticated().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetCallsCode(session_->CheckAuthenticated()), kCodeNotAuthenticated);
}

TEST_F(SessionTest, LoginPersistsAndAuthenticates) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  auto result = Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice"), "secret-token");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->state, SessionState::kAuthenticated);
  EXPECT_EQ(result->nickname, "Nick alice");
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  EXPECT_THAT(events_.States(), ElementsAre(SessionState::kLoggedOut,
                                            SessionState::kAuthenticating,
                                            SessionState::kAuthenticated));
  ASSERT_TRUE(store_.session.has_value());
  EXPECT_EQ(store_.session->user_id, "alice");
  EXPECT_EQ(store_.session->token, "secret-token");
  EXPECT_EQ(store_.session->session_key, "sk-alice");
  EXPECT_EQ(store_.session->token_kind, TokenKind::kAccessToken);
  ASSERT_EQ(listener_.authenticated.size(), 1u);
  EXPECT_EQ(listener_.authenticated[0].session_key, "sk-alice");
  EXPECT_EQ(listener_.authenticated[0].app_id, "app-1");
  EXPECT_TRUE(session_->CheckAuthenticated().ok());
  // An access token sets no timers: nothing wakes the daemon while idle.
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

TEST_F(SessionTest, RejectedLoginReturnsServerCodeAndStoresNothing) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  auto result = Login("alice", TokenKind::kAccessToken, ServerError(kCodeInvalidAccessToken));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetCallsCode(result.status()), kCodeInvalidAccessToken);
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut);
  EXPECT_FALSE(store_.session.has_value());
  EXPECT_EQ(session_->snapshot().last_error.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(scheduler_.pending_timers(), 0u) << "a refused login must not be retried";
}

TEST_F(SessionTest, UnreachableServerOnLoginIsUnavailableAndNotRetried) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  auto result = Login("alice", TokenKind::kAccessToken, absl::UnavailableError("refused"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut);
  EXPECT_FALSE(store_.session.has_value());
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

TEST_F(SessionTest, StoreFailureOnLoginIsInternalAndLeavesLoggedOut) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  store_.fail_writes = absl::InternalError("disk full");
  auto result = Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(result.status().message(), ::testing::HasSubstr("disk full"));
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut);
  EXPECT_TRUE(listener_.authenticated.empty());
}

TEST_F(SessionTest, AnotherUserMustLogOutFirstAndLoginsDoNotOverlap) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice")).ok());

  Answer<SessionSnapshot> bob;
  session_->Authenticate("bob", TokenKind::kAccessToken, "t", bob.Callback());
  ASSERT_TRUE(bob.ready());
  EXPECT_EQ(bob.get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(bob.get().status().message(), ::testing::HasSubstr("alice is logged in"));

  Answer<SessionSnapshot> first, second;
  session_->Authenticate("alice", TokenKind::kAccessToken, "t2", first.Callback());
  session_->Authenticate("alice", TokenKind::kAccessToken, "t3", second.Callback());
  ASSERT_TRUE(second.ready());
  EXPECT_EQ(second.get().status().code(), absl::StatusCode::kFailedPrecondition);
  // Re-login of the same user keeps the session usable meanwhile.
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  backend_.AnswerAuth(ServerError(kCodeInvalidAccessToken));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(first.ready());
  EXPECT_FALSE(first.get().ok());
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  EXPECT_EQ(store_.session->token, "tok") << "a failed re-login keeps the old token";
}

TEST_F(SessionTest, RestartReauthenticatesFromStore) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice"), "stored").ok());
  Restart();
  EXPECT_EQ(session_->state(), SessionState::kAuthenticating);
  EXPECT_EQ(session_->snapshot().user_id, "alice");
  ASSERT_EQ(backend_.auth_calls.size(), 1u);
  EXPECT_EQ(backend_.auth_calls[0].token, "stored");
  EXPECT_EQ(backend_.auth_calls[0].app_id, "app-1");
  EXPECT_FALSE(session_->credentials().has_value());
  backend_.AnswerAuth(FakeBackend::Ok("alice"));
  scheduler_.RunUntilIdle();
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  EXPECT_TRUE(session_->credentials().has_value());
}

TEST_F(SessionTest, RestartRetriesWithCappedBackoffWhileServerIsDown) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice")).ok());
  Restart();

  std::vector<absl::Duration> delays;
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(backend_.auth_calls.size(), 1u) << "attempt " << i;
    const absl::Time failed_at = scheduler_.clock().Now();
    backend_.AnswerAuth(absl::UnavailableError("connection refused"));
    scheduler_.RunUntilIdle();
    EXPECT_EQ(session_->state(), SessionState::kAuthenticating);
    ASSERT_TRUE(session_->snapshot().next_retry_at.has_value());
    EXPECT_EQ(session_->snapshot().last_error.code(), absl::StatusCode::kUnavailable);
    const absl::Duration delay = *session_->snapshot().next_retry_at - failed_at;
    delays.push_back(delay);
    EXPECT_LE(delay, options_.retry_max) << "attempt " << i;
    EXPECT_TRUE(backend_.auth_calls.empty()) << "retried before the delay passed";
    scheduler_.AdvanceTo(*session_->snapshot().next_retry_at);
  }
  // Grows, then stays at the cap (give or take the jitter).
  EXPECT_LT(delays.front(), absl::Seconds(2));
  EXPECT_GT(delays.back(), options_.retry_max * 0.7);
  backend_.AnswerAuth(FakeBackend::Ok("alice"));
  scheduler_.RunUntilIdle();
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  EXPECT_FALSE(session_->snapshot().next_retry_at.has_value());
  EXPECT_TRUE(session_->snapshot().last_error.ok());
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

TEST_F(SessionTest, RestartWithRefusedTokenRequiresToken) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice")).ok());
  Restart();
  backend_.AnswerAuth(ServerError(kCodeInvalidAccessToken));
  scheduler_.RunUntilIdle();
  EXPECT_EQ(session_->state(), SessionState::kTokenRequired);
  ASSERT_EQ(events_.Of<SessionTokenRequired>().size(), 1u);
  EXPECT_EQ(GetCallsCode(events_.Of<SessionTokenRequired>()[0].reason), kCodeInvalidAccessToken);
  EXPECT_EQ(scheduler_.pending_timers(), 0u) << "a refused token is not retried";
  EXPECT_EQ(session_->snapshot().user_id, "alice") << "the user stays known";
}

TEST_F(SessionTest, SessionTokenWarnsThenExpiresThenRefreshRestores) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  const absl::Time expires = scheduler_.clock().Now() + absl::Minutes(2);
  ASSERT_TRUE(Login("alice", TokenKind::kSessionToken, FakeBackend::Ok("alice", expires)).ok());
  EXPECT_EQ(store_.session->token_expires_at, expires);

  scheduler_.AdvanceTo(expires - options_.token_refresh_lead - absl::Seconds(1));
  EXPECT_TRUE(events_.Of<SessionTokenWillExpire>().empty());
  scheduler_.AdvanceBy(absl::Seconds(1));
  ASSERT_EQ(events_.Of<SessionTokenWillExpire>().size(), 1u);
  EXPECT_EQ(events_.Of<SessionTokenWillExpire>()[0].expires_at, expires);
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);

  scheduler_.AdvanceTo(expires);
  EXPECT_EQ(session_->state(), SessionState::kTokenRequired);
  ASSERT_EQ(events_.Of<SessionTokenRequired>().size(), 1u);
  EXPECT_EQ(GetCallsCode(events_.Of<SessionTokenRequired>()[0].reason), kCodeSessionKeyExpired);
  ASSERT_EQ(listener_.suspended.size(), 1u);

  const absl::Time new_expiry = expires + absl::Hours(1);
  Answer<absl::Time> refreshed;
  session_->RefreshSessionToken("new-token", refreshed.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_EQ(session_->state(), SessionState::kAuthenticating);
  backend_.AnswerAuth(FakeBackend::Ok("alice", new_expiry));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(refreshed.ready() && refreshed.get().ok());
  EXPECT_EQ(*refreshed.get(), new_expiry);
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  EXPECT_EQ(store_.session->token, "new-token");
  EXPECT_EQ(store_.session->token_expires_at, new_expiry);
  // New timers for the new expiry only.
  EXPECT_EQ(scheduler_.NextTimerAt(), new_expiry - options_.token_refresh_lead);
}

TEST_F(SessionTest, RefreshBeforeExpiryHasNoGap) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  const absl::Time expires = scheduler_.clock().Now() + absl::Minutes(2);
  ASSERT_TRUE(Login("alice", TokenKind::kSessionToken, FakeBackend::Ok("alice", expires)).ok());
  scheduler_.AdvanceTo(expires - absl::Seconds(30));
  Answer<absl::Time> refreshed;
  session_->RefreshSessionToken("new-token", refreshed.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated) << "no gap during a refresh";
  backend_.AnswerAuth(FakeBackend::Ok("alice", expires + absl::Hours(1)));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(refreshed.ready() && refreshed.get().ok());
  scheduler_.AdvanceTo(expires + absl::Minutes(1));
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated) << "the old expiry was cancelled";
  EXPECT_TRUE(events_.Of<SessionTokenRequired>().empty());
}

TEST_F(SessionTest, FailedRefreshKeepsTheOldSessionUntilItsRealExpiry) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  const absl::Time expires = scheduler_.clock().Now() + absl::Minutes(2);
  ASSERT_TRUE(Login("alice", TokenKind::kSessionToken, FakeBackend::Ok("alice", expires)).ok());
  Answer<absl::Time> refreshed;
  session_->RefreshSessionToken("new-token", refreshed.Callback());
  scheduler_.RunUntilIdle();
  backend_.AnswerAuth(absl::UnavailableError("garbage from the server"));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(refreshed.ready());
  EXPECT_EQ(refreshed.get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  EXPECT_EQ(store_.session->token, "tok");
  scheduler_.AdvanceTo(expires);
  EXPECT_EQ(session_->state(), SessionState::kTokenRequired);
}

TEST_F(SessionTest, RefreshThatRacesExpiryStillWins) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  const absl::Time expires = scheduler_.clock().Now() + absl::Minutes(2);
  ASSERT_TRUE(Login("alice", TokenKind::kSessionToken, FakeBackend::Ok("alice", expires)).ok());
  scheduler_.AdvanceTo(expires - absl::Seconds(1));
  Answer<absl::Time> refreshed;
  session_->RefreshSessionToken("new-token", refreshed.Callback());
  scheduler_.AdvanceTo(expires);  // the old token expires while the refresh is in flight
  EXPECT_EQ(session_->state(), SessionState::kTokenRequired);
  backend_.AnswerAuth(FakeBackend::Ok("alice", expires + absl::Hours(1)));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(refreshed.ready() && refreshed.get().ok());
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
}

TEST_F(SessionTest, RefreshNeedsALoggedInUser) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  Answer<absl::Time> refreshed;
  session_->RefreshSessionToken("t", refreshed.Callback());
  ASSERT_TRUE(refreshed.ready());
  EXPECT_EQ(refreshed.get().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetCallsCode(refreshed.get().status()), kCodeNotAuthenticated);
}

TEST_F(SessionTest, ExpiredStoredTokenAtStartRequiresTokenWithoutAskingTheServer) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  const absl::Time expires = scheduler_.clock().Now() + absl::Minutes(2);
  ASSERT_TRUE(Login("alice", TokenKind::kSessionToken, FakeBackend::Ok("alice", expires)).ok());
  session_->Shutdown();
  scheduler_.AdvanceTo(expires + absl::Minutes(5));
  Restart();
  EXPECT_EQ(session_->state(), SessionState::kTokenRequired);
  EXPECT_TRUE(backend_.auth_calls.empty());
  ASSERT_EQ(events_.Of<SessionTokenRequired>().size(), 1u);
}

TEST_F(SessionTest, RevocationSeenOnARequestRequiresToken) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  ASSERT_TRUE(Login("alice", TokenKind::kSessionToken,
                    FakeBackend::Ok("alice", scheduler_.clock().Now() + absl::Hours(1)))
                  .ok());
  session_->OnSessionRejected(absl::UnavailableError("not a rejection"));
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  session_->OnSessionRejected(ServerError(kCodeSessionTokenRevoked));
  EXPECT_EQ(session_->state(), SessionState::kTokenRequired);
  ASSERT_EQ(events_.Of<SessionTokenRequired>().size(), 1u);
  EXPECT_EQ(GetCallsCode(events_.Of<SessionTokenRequired>()[0].reason), kCodeSessionTokenRevoked);
  EXPECT_EQ(scheduler_.pending_timers(), 0u) << "expiry timers of a dead session are cancelled";
}

TEST_F(SessionTest, DeauthenticateClearsAtOnceAndHandsTheKeyToTheEnder) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice")).ok());
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(/*keep_push_tokens=*/true, out.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(out.ready() && out.get().ok());
  EXPECT_TRUE(out.get()->server_confirmed);
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut);
  EXPECT_FALSE(store_.session.has_value());
  EXPECT_TRUE(session_->snapshot().user_id.empty());
  ASSERT_EQ(ender_.ended.size(), 1u);
  EXPECT_EQ(ender_.ended[0].session_key, "sk-alice");
  EXPECT_EQ(ender_.keep[0], true);
  // The server work was stored with the logout, in the same transaction.
  ASSERT_EQ(store_.ops.size(), 1u);
  EXPECT_EQ(store_.ops[0].creds.session_key, "sk-alice");
  ASSERT_EQ(ender_.executed.size(), 1u);
  EXPECT_NE(ender_.executed[0].id, 0) << "executed as the stored operation";
  ASSERT_EQ(listener_.ended.size(), 1u);
  EXPECT_FALSE(listener_.ended[0]);

  // Idempotent.
  Answer<Session::DeauthResult> again;
  session_->Deauthenticate(false, again.Callback());
  ASSERT_TRUE(again.ready() && again.get().ok());
  EXPECT_EQ(ender_.ended.size(), 1u);
}

TEST_F(SessionTest, DeauthenticateReportsUnconfirmedServerEnd) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice")).ok());
  ender_.confirm = false;
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(false, out.Callback());
  ASSERT_TRUE(out.ready() && out.get().ok());
  EXPECT_FALSE(out.get()->server_confirmed);
  EXPECT_EQ(out.get()->pending_operations, 1);
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut) << "local state goes regardless";
}

TEST_F(SessionTest, DeauthenticateDuringReauthenticationIgnoresTheLateAnswer) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice")).ok());
  Restart();
  ASSERT_EQ(session_->state(), SessionState::kAuthenticating);
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(false, out.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(out.ready() && out.get().ok());
  // The stored session key of the previous run is still ended on the server.
  ASSERT_EQ(ender_.ended.size(), 1u);
  EXPECT_EQ(ender_.ended[0].session_key, "sk-alice");
  backend_.AnswerAuth(FakeBackend::Ok("alice"));
  scheduler_.RunUntilIdle();
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut);
  EXPECT_FALSE(store_.session.has_value());
}

TEST_F(SessionTest, InitWithOtherAppWipesAndEndsTheOldSession) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp("app-1");
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice")).ok());
  Answer<Session::InitResult> out;
  session_->Init("app-2", out.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(out.ready() && out.get().ok());
  EXPECT_TRUE(out.get()->changed);
  EXPECT_EQ(out.get()->previous_app_id, "app-1");
  EXPECT_EQ(store_.app_id, "app-2");
  EXPECT_FALSE(store_.session.has_value());
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut);
  EXPECT_EQ(session_->snapshot().app_id, "app-2");
  ASSERT_EQ(ender_.ended.size(), 1u);
  EXPECT_EQ(ender_.ended[0].app_id, "app-1");
  // Best effort on the old app: tried, not stored (the old app is gone).
  ASSERT_EQ(ender_.executed.size(), 1u);
  EXPECT_EQ(ender_.executed[0].id, 0);
  EXPECT_TRUE(store_.ops.empty());
  ASSERT_EQ(listener_.ended.size(), 1u);
  EXPECT_TRUE(listener_.ended[0]);
  auto changes = events_.Of<AppChanged>();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[1].previous_app_id, "app-1");
}

TEST_F(SessionTest, InitFailureChangesNothing) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp("app-1");
  ASSERT_TRUE(Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("alice")).ok());
  store_.fail_writes = absl::InternalError("disk full");
  Answer<Session::InitResult> out;
  session_->Init("app-2", out.Callback());
  ASSERT_TRUE(out.ready());
  EXPECT_EQ(out.get().status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(session_->state(), SessionState::kAuthenticated);
  EXPECT_EQ(session_->snapshot().app_id, "app-1");
  EXPECT_TRUE(ender_.executed.empty()) << "nothing is sent when the wipe failed";
}

TEST_F(SessionTest, ShutdownAnswersThePendingLogin) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  Answer<SessionSnapshot> login;
  session_->Authenticate("alice", TokenKind::kAccessToken, "t", login.Callback());
  scheduler_.RunUntilIdle();
  session_->Shutdown();
  ASSERT_TRUE(login.ready());
  EXPECT_EQ(login.get().status().code(), absl::StatusCode::kUnavailable);
  Answer<Session::InitResult> late;
  session_->Init("x", late.Callback());
  ASSERT_TRUE(late.ready());
  EXPECT_EQ(late.get().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(SessionTest, ServerAnsweringForAnotherUserIsRefused) {
  ASSERT_TRUE(session_->Start().ok());
  InitApp();
  auto result = Login("alice", TokenKind::kAccessToken, FakeBackend::Ok("mallory"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(store_.session.has_value());
}

}  // namespace
}  // namespace callsd::daemon
