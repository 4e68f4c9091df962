// The SQLite StateStore on real files in a temporary folder: schema and
// migrations, durability across reopen, wipe atomicity, locking, modes, and
// clear errors for unusable files.
#include "daemon/store/sqlite_state_store.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/sqlite_db.h"
#include "daemon/store/migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::daemon {
namespace {

using ::testing::HasSubstr;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsd-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/state";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<SqliteStateStore> Open() {
    auto store = SqliteStateStore::Open(dir_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static StoredSession Alice() {
    StoredSession s;
    s.user_id = "alice";
    s.nickname = "Alice";
    s.token_kind = TokenKind::kSessionToken;
    s.token = "tok";
    s.token_expires_at = absl::FromUnixMillis(1'900'000'000'123);
    s.session_key = "sk";
    s.push_key = std::string("\x00\x01\xff", 3);
    s.authenticated_at = absl::FromUnixMillis(1'800'000'000'000);
    return s;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(StoreTest, CreatesPrivateDirectoryAndFileAtCurrentSchema) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat((dir_ + "/callsd.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto version = store->db().UserVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, static_cast<int>(StateMigrations().size()));
  auto app = store->LoadAppId();
  ASSERT_TRUE(app.ok());
  EXPECT_FALSE(app->has_value());
}

TEST_F(StoreTest, TightensAnOpenDirectory) {
  std::filesystem::create_directories(dir_);
  chmod(dir_.c_str(), 0755);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(StoreTest, SessionSurvivesReopenExactly) {
  {
    auto store = Open();
    ASSERT_TRUE(store->ResetApp("app").ok());
    ASSERT_TRUE(store->SaveSession(Alice()).ok());
  }
  auto store = Open();
  auto app = store->LoadAppId();
  ASSERT_TRUE(app.ok() && app->has_value());
  EXPECT_EQ(**app, "app");
  auto loaded = store->LoadSession();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const StoredSession& s = **loaded;
  const StoredSession want = Alice();
  EXPECT_EQ(s.user_id, want.user_id);
  EXPECT_EQ(s.nickname, want.nickname);
  EXPECT_EQ(s.token_kind, want.token_kind);
  EXPECT_EQ(s.token, want.token);
  EXPECT_EQ(s.token_expires_at, want.token_expires_at);
  EXPECT_EQ(s.session_key, want.session_key);
  EXPECT_EQ(s.push_key, want.push_key);
  EXPECT_EQ(s.authenticated_at, want.authenticated_at);

  std::vector<PendingOp> none;
  ASSERT_TRUE(store->ClearSession(&none).ok());
  auto cleared = store->LoadSession();
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(cleared->has_value());
}

TEST_F(StoreTest, ResetAppWithSameAppKeepsEverythingAndOtherAppWipes) {
  auto store = Open();
  ASSERT_TRUE(store->ResetApp("app").ok());
  ASSERT_TRUE(store->SaveSession(Alice()).ok());
  ASSERT_TRUE(store->ResetApp("app").ok());
  EXPECT_TRUE(store->LoadSession()->has_value());
  ASSERT_TRUE(store->ResetApp("other").ok());
  EXPECT_FALSE(store->LoadSession()->has_value());
  EXPECT_EQ(**store->LoadAppId(), "other");
}

TEST_F(StoreTest, ResetAppIsAllOrNothing) {
  auto store = Open();
  ASSERT_TRUE(store->ResetApp("app").ok());
  ASSERT_TRUE(store->SaveSession(Alice()).ok());
  // Make the app row refuse to change, after the session delete ran.
  ASSERT_TRUE(store->db()
                  .Exec("CREATE TRIGGER no_app BEFORE INSERT ON app BEGIN "
                        "SELECT RAISE(ABORT, 'injected failure'); END;")
                  .ok());
  absl::Status reset = store->ResetApp("other");
  ASSERT_FALSE(reset.ok());
  EXPECT_THAT(reset.message(), HasSubstr("injected failure"));
  EXPECT_EQ(**store->LoadAppId(), "app");
  EXPECT_TRUE(store->LoadSession()->has_value()) << "the wipe was rolled back";
}

StoredPushToken Token(PushType type, const std::string& url, PushTokenState state) {
  StoredPushToken t;
  t.type = type;
  t.token = url;
  t.state = state;
  t.updated_at = absl::FromUnixMillis(1'800'000'000'000);
  return t;
}

PendingOp Op(PendingOp::Kind kind, const std::string& token = "") {
  PendingOp op;
  op.kind = kind;
  op.creds = {"app", "sk"};
  op.type = PushType::kRemote;
  op.token = token;
  op.created_at = absl::FromUnixMillis(1'800'000'000'000);
  return op;
}

TEST_F(StoreTest, PushTokensRoundTripAndUpsert) {
  auto store = Open();
  ASSERT_TRUE(store->ResetApp("app").ok());
  StoredPushToken a = Token(PushType::kVoip, "https://push.example/a", PushTokenState::kPending);
  a.unique = true;
  ASSERT_TRUE(store->SavePushToken(a).ok());
  ASSERT_TRUE(
      store->SavePushToken(Token(PushType::kRemote, "https://push.example/b",
                                 PushTokenState::kRegistered))
          .ok());
  a.state = PushTokenState::kFailed;
  a.error_code = 400100;
  a.error = "bad";
  ASSERT_TRUE(store->SavePushToken(a).ok());
  auto tokens = store->LoadPushTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].token, "https://push.example/a");
  EXPECT_EQ((*tokens)[0].state, PushTokenState::kFailed);
  EXPECT_EQ((*tokens)[0].error_code, 400100);
  EXPECT_EQ((*tokens)[0].error, "bad");
  EXPECT_TRUE((*tokens)[0].unique);
  EXPECT_EQ((*tokens)[1].type, PushType::kRemote);
}

TEST_F(StoreTest, LogoutClearsSessionMarksTokensPendingAndQueuesWorkAtomically) {
  {
    auto store = Open();
    ASSERT_TRUE(store->ResetApp("app").ok());
    ASSERT_TRUE(store->SaveSession(Alice()).ok());
    ASSERT_TRUE(store->SavePushToken(Token(PushType::kVoip, "https://p/a",
                                           PushTokenState::kRegistered))
                    .ok());
    std::vector<PendingOp> ops = {Op(PendingOp::Kind::kUnregisterPush, "https://p/a"),
                                  Op(PendingOp::Kind::kEndSession)};
    ASSERT_TRUE(store->ClearSession(&ops).ok());
    EXPECT_GT(ops[0].id, 0);
    EXPECT_GT(ops[1].id, ops[0].id);
  }
  auto store = Open();
  EXPECT_FALSE(store->LoadSession()->has_value());
  EXPECT_EQ((*store->LoadPushTokens())[0].state, PushTokenState::kPending);
  auto ops = store->LoadPendingOps();
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[0].kind, PendingOp::Kind::kUnregisterPush);
  EXPECT_EQ((*ops)[0].token, "https://p/a");
  EXPECT_EQ((*ops)[0].creds.session_key, "sk");
  EXPECT_EQ((*ops)[0].type, PushType::kRemote);
  EXPECT_EQ((*ops)[1].kind, PendingOp::Kind::kEndSession);

  PendingOp retried = (*ops)[0];
  retried.attempts = 3;
  ASSERT_TRUE(store->UpdatePendingOp(retried).ok());
  ASSERT_TRUE(store->DeletePendingOp((*ops)[1].id).ok());
  ops = store->LoadPendingOps();
  ASSERT_EQ(ops->size(), 1u);
  EXPECT_EQ((*ops)[0].attempts, 3);
}

TEST_F(StoreTest, LogoutThatFailsKeepsTheSessionAndQueuesNothing) {
  auto store = Open();
  ASSERT_TRUE(store->ResetApp("app").ok());
  ASSERT_TRUE(store->SaveSession(Alice()).ok());
  ASSERT_TRUE(store->db()
                  .Exec("CREATE TRIGGER no_ops BEFORE INSERT ON pending_ops BEGIN "
                        "SELECT RAISE(ABORT, 'injected failure'); END;")
                  .ok());
  std::vector<PendingOp> ops = {Op(PendingOp::Kind::kEndSession)};
  EXPECT_FALSE(store->ClearSession(&ops).ok());
  EXPECT_TRUE(store->LoadSession()->has_value()) << "rolled back";
}

TEST_F(StoreTest, RemovePushTokensOneOrAllOfAType) {
  auto store = Open();
  ASSERT_TRUE(store->ResetApp("app").ok());
  for (const char* url : {"https://p/1", "https://p/2"}) {
    ASSERT_TRUE(store->SavePushToken(Token(PushType::kVoip, url, PushTokenState::kRegistered)).ok());
  }
  ASSERT_TRUE(
      store->SavePushToken(Token(PushType::kRemote, "https://p/3", PushTokenState::kRegistered))
          .ok());
  std::vector<PendingOp> ops = {Op(PendingOp::Kind::kUnregisterPush, "https://p/1")};
  ASSERT_TRUE(store->RemovePushTokens(PushType::kVoip, "https://p/1", &ops).ok());
  EXPECT_EQ(store->LoadPushTokens()->size(), 2u);
  std::vector<PendingOp> all = {Op(PendingOp::Kind::kUnregisterAllPush)};
  ASSERT_TRUE(store->RemovePushTokens(PushType::kVoip, "", &all).ok());
  auto left = store->LoadPushTokens();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].token, "https://p/3");
  EXPECT_EQ(store->LoadPendingOps()->size(), 2u);
  // An APP_ID change wipes tokens and queued work too.
  ASSERT_TRUE(store->ResetApp("other").ok());
  EXPECT_TRUE(store->LoadPushTokens()->empty());
  EXPECT_TRUE(store->LoadPendingOps()->empty());
}

TEST_F(StoreTest, MigratesAVersionOneDatabase) {
  {
    std::filesystem::create_directories(dir_);
    chmod(dir_.c_str(), 0700);
    auto db = SqliteDb::Open(dir_ + "/callsd.db", {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Migrate({StateMigrations()[0]}).ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO app VALUES (1, 'old-app', 0); "
                            "INSERT INTO session (id, user_id, token_kind, token) "
                            "VALUES (1, 'alice', 1, 't')")
                    .ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->db().UserVersion(), static_cast<int>(StateMigrations().size()));
  EXPECT_EQ(**store->LoadAppId(), "old-app");
  EXPECT_EQ((*store->LoadSession())->user_id, "alice") << "data survives the migration";
  EXPECT_TRUE(store->LoadPushTokens()->empty());
}

TEST_F(StoreTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto first = Open();
  ASSERT_NE(first, nullptr);
  auto second = SqliteStateStore::Open(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("in use by another callsd"));
  first.reset();
  EXPECT_TRUE(SqliteStateStore::Open(dir_).ok()) << "the lock goes with the store";
}

TEST_F(StoreTest, GarbageFileIsAnErrorNamingItAndIsLeftAlone) {
  std::filesystem::create_directories(dir_);
  chmod(dir_.c_str(), 0700);
  const std::string path = dir_ + "/callsd.db";
  {
    std::ofstream out(path);
    out << std::string(8192, 'x');
  }
  auto store = SqliteStateStore::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_EQ(std::filesystem::file_size(path), 8192u) << "never silently start over";
}

TEST_F(StoreTest, NewerSchemaIsRefused) {
  { auto store = Open(); }
  {
    auto db = SqliteDb::Open(dir_ + "/callsd.db", {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 999").ok());
  }
  auto store = SqliteStateStore::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 999"));
}

TEST_F(StoreTest, UnreadableFileIsAnErrorNamingIt) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  { auto store = Open(); }
  const std::string path = dir_ + "/callsd.db";
  chmod(path.c_str(), 0);
  auto store = SqliteStateStore::Open(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path));
}

TEST_F(StoreTest, UncreatableDirectoryIsAnErrorNamingIt) {
  const std::string file = root_ + "/file";
  { std::ofstream out(file); }
  auto store = SqliteStateStore::Open(file + "/state");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(file));
}

}  // namespace
}  // namespace callsd::daemon

namespace callsd::daemon {
namespace {

int Synchronous(SqliteDb& db) {
  auto stmt = db.Prepare("PRAGMA synchronous");
  if (!stmt.ok() || !stmt->Step().value_or(false)) return -1;
  return static_cast<int>(stmt->ColumnInt(0));
}

// Call rows skip the fsync (a ring must not wait for the disk); session and
// token writes keep synchronous=FULL before and after them.
TEST_F(StoreTest, CallWritesSkipTheFsyncAndSessionWritesKeepIt) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kNormal = 1, kFull = 2;
  EXPECT_EQ(Synchronous(store->db()), kFull);
  int inside = -1;
  EXPECT_TRUE(store->db()
                  .WithoutFsync([&] {
                    inside = Synchronous(store->db());
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(inside, kNormal);
  EXPECT_EQ(Synchronous(store->db()), kFull);

  CallRecord call;
  call.call_id = "c1";
  call.caller_id = "alice";
  call.callee_id = "bob";
  call.state = CallState::kRinging;
  call.started_at = absl::FromUnixMillis(1000);
  ASSERT_TRUE(store->SaveCall(call).ok());
  EXPECT_EQ(Synchronous(store->db()), kFull);
  ASSERT_EQ(store->LoadCalls()->size(), 1u);

  // An error inside comes back, and the setting is restored all the same.
  absl::Status failed =
      store->db().WithoutFsync([] { return absl::InternalError("disk on fire"); });
  EXPECT_EQ(failed.message(), "disk on fire");
  EXPECT_EQ(Synchronous(store->db()), kFull);
}

}  // namespace
}  // namespace callsd::daemon
