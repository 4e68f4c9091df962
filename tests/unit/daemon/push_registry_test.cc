// Push tokens and the queue of server work, with the real Session, a fake
// backend and store, and simulated time: registration and its states,
// re-registration after authentication, logout that unregisters first and
// keeps retrying while the server is away (also across a restart), and an
// old unregistration never undoing a newer registration.
#include "daemon/session/push_registry.h"

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
using testing::Answer;
using testing::FakeBackend;
using testing::FakeStateStore;
using testing::RecordingEventSink;

constexpr char kUrlA[] = "https://push.example/a";
constexpr char kUrlB[] = "https://push.example/b";

absl::Status ServerError(int code) {
  return CallsError(StatusCodeForServerCode(code), code, "server said no");
}

class PushRegistryTest : public ::testing::Test {
 protected:
  PushRegistryTest() { Build(); }

  // Builds the components on the (persistent) fake store, as a daemon start.
  void Build() {
    queue_ = std::make_unique<ServerOpQueue>(&scheduler_, &store_, &backend_,
                                             ServerOpQueue::Options{absl::Seconds(1),
                                                                    absl::Seconds(8),
                                                                    absl::Seconds(11)});
    push_ = std::make_unique<PushRegistry>(&scheduler_, &store_, &backend_, queue_.get(),
                                           &events_, PushRegistry::Options{absl::Seconds(1),
                                                                           absl::Seconds(8)});
    session_ = std::make_unique<Session>(&scheduler_, &store_, &backend_, push_.get(), &events_,
                                         Session::Options{});
    push_->set_session(session_.get());
    session_->AddListener(push_.get());
    ASSERT_TRUE(push_->Start().ok());
    ASSERT_TRUE(queue_->Start().ok());
    ASSERT_TRUE(session_->Start().ok());
    scheduler_.RunUntilIdle();
  }

  void Restart() {
    session_->Shutdown();
    push_->Shutdown();
    queue_->Shutdown();
    scheduler_.RunUntilIdle();
    backend_.auth_calls.clear();
    backend_.calls.clear();
    session_.reset();
    push_.reset();
    queue_.reset();
    Build();
  }

  void LoginAlice() {
    Answer<Session::InitResult> init;
    session_->Init("app", init.Callback());
    Answer<SessionSnapshot> login;
    session_->Authenticate("alice", TokenKind::kAccessToken, "tok", login.Callback());
    scheduler_.RunUntilIdle();
    backend_.AnswerAuth(FakeBackend::Ok("alice"));
    scheduler_.RunUntilIdle();
    ASSERT_TRUE(login.ready() && login.get().ok());
  }

  const StoredPushToken* Token(const std::string& url) {
    for (const auto& t : push_->tokens()) {
      if (t.token == url) return &t;
    }
    return nullptr;
  }

  std::vector<std::string> CallKinds() const {
    std::vector<std::string> kinds;
    for (const auto& c : backend_.calls) kinds.push_back(c.what + (c.token.empty() ? "" : ":" + c.token));
    return kinds;
  }

  SimulatedScheduler scheduler_;
  FakeStateStore store_;
  FakeBackend backend_{&scheduler_};
  RecordingEventSink events_;
  std::unique_ptr<ServerOpQueue> queue_;
  std::unique_ptr<PushRegistry> push_;
  std::unique_ptr<Session> session_;
};

TEST_F(PushRegistryTest, NeedsInitAndAUser) {
  Answer<StoredPushToken> before_init;
  push_->Register(PushType::kVoip, kUrlA, false, before_init.Callback());
  ASSERT_TRUE(before_init.ready());
  EXPECT_EQ(GetCallsCode(before_init.get().status()), kCodeNotInitialized);

  Answer<Session::InitResult> init;
  session_->Init("app", init.Callback());
  Answer<StoredPushToken> logged_out;
  push_->Register(PushType::kVoip, kUrlA, false, logged_out.Callback());
  ASSERT_TRUE(logged_out.ready());
  EXPECT_EQ(GetCallsCode(logged_out.get().status()), kCodeNotAuthenticated);
  EXPECT_TRUE(store_.push_tokens.empty());
}

TEST_F(PushRegistryTest, RegistersWhenAuthenticatedAndReportsTheServerState) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, /*unique=*/true, reg.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_EQ(backend_.calls.size(), 1u);
  EXPECT_EQ(backend_.calls[0].what, "register");
  EXPECT_EQ(backend_.calls[0].token, kUrlA);
  EXPECT_TRUE(backend_.calls[0].unique);
  EXPECT_EQ(backend_.calls[0].creds.session_key, "sk-alice");
  ASSERT_EQ(store_.push_tokens.size(), 1u);
  EXPECT_EQ(store_.push_tokens[0].state, PushTokenState::kPending) << "stored before sending";
  EXPECT_FALSE(reg.ready());

  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(reg.ready() && reg.get().ok()) << reg.get().status();
  EXPECT_EQ(reg.get()->state, PushTokenState::kRegistered);
  EXPECT_EQ(store_.push_tokens[0].state, PushTokenState::kRegistered);
  EXPECT_FALSE(store_.push_tokens[0].unique) << "unique applies once";
  EXPECT_FALSE(events_.Of<PushTokensChanged>().empty());
}

TEST_F(PushRegistryTest, RefusedTokenIsFailedWithTheServerCode) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kRemote, kUrlA, false, reg.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(ServerError(kCodeInvalidParams));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(reg.ready());
  EXPECT_EQ(GetCallsCode(reg.get().status()), kCodeInvalidParams);
  ASSERT_NE(Token(kUrlA), nullptr);
  EXPECT_EQ(Token(kUrlA)->state, PushTokenState::kFailed);
  EXPECT_EQ(Token(kUrlA)->error_code, kCodeInvalidParams);
  EXPECT_EQ(scheduler_.pending_timers(), 0u) << "a refusal is not retried";
}

TEST_F(PushRegistryTest, UnreachableServerLeavesItPendingAndRetries) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, false, reg.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::UnavailableError("down"));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(reg.ready() && reg.get().ok());
  EXPECT_EQ(reg.get()->state, PushTokenState::kPending);
  EXPECT_THAT(reg.get()->error, ::testing::HasSubstr("down"));
  EXPECT_TRUE(backend_.calls.empty());
  scheduler_.AdvanceBy(absl::Seconds(2));
  ASSERT_EQ(backend_.calls.size(), 1u) << "retried after the backoff";
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  EXPECT_EQ(Token(kUrlA)->state, PushTokenState::kRegistered);
}

TEST_F(PushRegistryTest, RevokedSessionSeenOnRegistrationRequiresToken) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, false, reg.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(ServerError(kCodeSessionTokenRevoked));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(reg.ready() && reg.get().ok());
  EXPECT_EQ(reg.get()->state, PushTokenState::kPending);
  EXPECT_EQ(session_->state(), SessionState::kTokenRequired);
  ASSERT_EQ(events_.Of<SessionTokenRequired>().size(), 1u);
}

TEST_F(PushRegistryTest, StoredWhileAuthenticatingAndSentOnceAuthenticated) {
  LoginAlice();
  Restart();
  ASSERT_EQ(session_->state(), SessionState::kAuthenticating);
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, false, reg.Callback());
  ASSERT_TRUE(reg.ready() && reg.get().ok());
  EXPECT_EQ(reg.get()->state, PushTokenState::kPending);
  EXPECT_TRUE(backend_.calls.empty());
  backend_.AnswerAuth(FakeBackend::Ok("alice"));
  scheduler_.RunUntilIdle();
  ASSERT_EQ(backend_.calls.size(), 1u);
  EXPECT_EQ(backend_.calls[0].what, "register");
}

TEST_F(PushRegistryTest, RestartRegistersEveryStoredTokenAgain) {
  LoginAlice();
  for (const char* url : {kUrlA, kUrlB}) {
    Answer<StoredPushToken> reg;
    push_->Register(PushType::kVoip, url, false, reg.Callback());
    scheduler_.RunUntilIdle();
    backend_.Answer(absl::OkStatus());
    scheduler_.RunUntilIdle();
  }
  Restart();
  backend_.AnswerAuth(FakeBackend::Ok("alice"));
  scheduler_.RunUntilIdle();
  // Both again, although stored as registered: the server may have forgotten.
  EXPECT_THAT(CallKinds(), ::testing::UnorderedElementsAre(std::string("register:") + kUrlA,
                                                           std::string("register:") + kUrlB));
  backend_.Answer(absl::OkStatus());
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  // A token refresh later does not send them again.
  Answer<absl::Time> refresh;
  session_->RefreshSessionToken("tok2", refresh.Callback());
  scheduler_.RunUntilIdle();
  backend_.AnswerAuth(FakeBackend::Ok("alice"));
  scheduler_.RunUntilIdle();
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(PushRegistryTest, LogoutUnregistersFirstThenEndsTheSession) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, false, reg.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();

  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(false, out.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_EQ(session_->state(), SessionState::kLoggedOut) << "local state goes at once";
  EXPECT_FALSE(store_.session.has_value());
  ASSERT_EQ(store_.ops.size(), 2u) << "both operations stored with the logout";
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre(std::string("unregister:") + kUrlA));
  EXPECT_EQ(backend_.calls[0].creds.session_key, "sk-alice");
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre("end_session"));
  EXPECT_FALSE(out.ready()) << "answers once the server was tried for everything";
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(out.ready() && out.get().ok());
  EXPECT_TRUE(out.get()->server_confirmed);
  EXPECT_EQ(out.get()->pending_operations, 0);
  EXPECT_TRUE(store_.ops.empty());
  // The token stays this device's, pending until the next login.
  ASSERT_NE(Token(kUrlA), nullptr);
  EXPECT_EQ(Token(kUrlA)->state, PushTokenState::kPending);
}

TEST_F(PushRegistryTest, KeepPushTokensOnlyEndsTheSession) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, false, reg.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(/*keep_push_tokens=*/true, out.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre("end_session"));
}

TEST_F(PushRegistryTest, LogoutWhileServerIsDownRetriesAcrossARestartUntilConfirmed) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, false, reg.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();

  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(false, out.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::UnavailableError("down"));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(out.ready() && out.get().ok());
  EXPECT_FALSE(out.get()->server_confirmed);
  EXPECT_EQ(out.get()->pending_operations, 2);
  EXPECT_EQ(push_->pending_unregistrations(), 2);
  EXPECT_EQ(store_.ops[0].attempts, 1);

  // Retries back off, capped.
  for (int i = 0; i < 6; ++i) {
    scheduler_.AdvanceTo(scheduler_.NextTimerAt());
    ASSERT_EQ(backend_.calls.size(), 1u);
    backend_.Answer(absl::UnavailableError("down"));
    scheduler_.RunUntilIdle();
  }
  EXPECT_LE(scheduler_.NextTimerAt() - scheduler_.clock().Now(), absl::Seconds(8) * 1.2);

  // The daemon restarts while the server is still away: the work survives.
  Restart();
  EXPECT_EQ(push_->pending_unregistrations(), 2);
  ASSERT_EQ(backend_.calls.size(), 1u) << "tried at start";
  EXPECT_EQ(backend_.calls[0].what, "unregister");
  backend_.Answer(absl::OkStatus());  // the server is back
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  EXPECT_EQ(push_->pending_unregistrations(), 0);
  EXPECT_TRUE(store_.ops.empty());
  EXPECT_EQ(scheduler_.pending_timers(), 0u) << "idle: no timers left";
}

TEST_F(PushRegistryTest, DeadSessionKeyEndsTheRetriesInsteadOfLoopingForever) {
  LoginAlice();
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(true, out.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(ServerError(kCodeSessionKeyExpired));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(out.ready() && out.get().ok());
  EXPECT_TRUE(out.get()->server_confirmed) << "an expired key is as ended as it gets";
  EXPECT_TRUE(store_.ops.empty());
}

TEST_F(PushRegistryTest, LoginWaitsForOldUnregistrationsBeforeRegistering) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, false, reg.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(false, out.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::UnavailableError("down"));
  scheduler_.RunUntilIdle();

  // Alice logs in again while the unregistration is still queued.
  Answer<SessionSnapshot> login;
  session_->Authenticate("alice", TokenKind::kAccessToken, "tok", login.Callback());
  scheduler_.RunUntilIdle();
  backend_.AnswerAuth(FakeBackend::Ok("alice"));
  scheduler_.RunUntilIdle();
  // The queue goes first: unregister (old key), end session, then register.
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre(std::string("unregister:") + kUrlA));
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre("end_session"));
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre(std::string("register:") + kUrlA));
}

TEST_F(PushRegistryTest, UnregisterRemovesAtOnceAndQueuesTheServerSide) {
  LoginAlice();
  for (const char* url : {kUrlA, kUrlB}) {
    Answer<StoredPushToken> reg;
    push_->Register(PushType::kVoip, url, false, reg.Callback());
    scheduler_.RunUntilIdle();
    backend_.Answer(absl::OkStatus());
    scheduler_.RunUntilIdle();
  }
  Answer<bool> one;
  push_->Unregister(PushType::kVoip, kUrlA, one.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_EQ(Token(kUrlA), nullptr);
  EXPECT_EQ(store_.push_tokens.size(), 1u);
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre(std::string("unregister:") + kUrlA));
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(one.ready() && one.get().ok());
  EXPECT_TRUE(*one.get());

  Answer<bool> all;
  push_->UnregisterAll(PushType::kVoip, all.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_TRUE(push_->tokens().empty());
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre("unregister_all"));
  backend_.Answer(absl::UnavailableError("down"));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(all.ready() && all.get().ok());
  EXPECT_FALSE(*all.get());
  EXPECT_EQ(push_->pending_unregistrations(), 1);
}

TEST_F(PushRegistryTest, AppChangeDropsTokensAndQueuedWork) {
  LoginAlice();
  Answer<StoredPushToken> reg;
  push_->Register(PushType::kVoip, kUrlA, false, reg.Callback());
  scheduler_.RunUntilIdle();
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  Answer<Session::InitResult> other;
  session_->Init("other-app", other.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(other.ready() && other.get().ok());
  EXPECT_TRUE(push_->tokens().empty());
  EXPECT_TRUE(store_.push_tokens.empty());
  // What can be undone on the old app is tried once, with the old key.
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre(std::string("unregister:") + kUrlA));
  EXPECT_EQ(backend_.calls[0].creds.app_id, "app");
  backend_.Answer(absl::UnavailableError("down"));
  scheduler_.RunUntilIdle();
  EXPECT_THAT(CallKinds(), ::testing::ElementsAre("end_session"));
  backend_.Answer(absl::UnavailableError("down"));
  scheduler_.RunUntilIdle();
  EXPECT_TRUE(backend_.calls.empty()) << "best effort: not retried";
  EXPECT_EQ(push_->pending_unregistrations(), 0);
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

}  // namespace
}  // namespace callsd::daemon
