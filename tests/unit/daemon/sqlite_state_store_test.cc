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

  ASSERT_TRUE(store->ClearSession().ok());
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
