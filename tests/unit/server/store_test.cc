#include "server/store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/server/temp_dir.h"

namespace callsd::server {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using testing::TempDir;

constexpr int64_t kNow = 1'800'000'000'000;

std::string PushKey() { return std::string(32, '\x07'); }

// Reads one integer with a separate connection, as an outsider would.
int64_t QueryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  int64_t value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

void ExecSql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  UserRecord NewUser(const std::string& user_id, const std::string& app = "app") {
    auto user = store_->CreateUser(app, user_id, "Nick " + user_id, PushKey(), "", kNow);
    EXPECT_TRUE(user.ok()) << user.status();
    return *user;
  }

  std::vector<std::string> Tokens(const UserRecord& user) {
    auto tokens = store_->ListPushTokens(user.rowid);
    EXPECT_TRUE(tokens.ok()) << tokens.status();
    std::vector<std::string> out;
    for (const auto& t : *tokens) out.push_back(std::string(PushTypeName(t.type)) + " " + t.token);
    return out;
  }

  TempDir dir_;
  std::string path_ = dir_.File("calls.db");
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CreatesVersionedSchemaInWalModeAndPrivateFile) {
  EXPECT_EQ(QueryInt(path_, "PRAGMA user_version"), Store::kSchemaVersion);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM sqlite_master WHERE name = 'push_tokens'"), 1);
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // WAL is a property of the file: a second connection sees it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(StoreTest, ReopenKeepsData) {
  UserRecord alice = NewUser("alice");
  store_.reset();
  auto reopened = Store::Open(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto user = (*reopened)->GetUser("app", "alice");
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->rowid, alice.rowid);
  EXPECT_EQ(user->nickname, "Nick alice");
  EXPECT_EQ(user->created_at_ms, kNow);
  EXPECT_EQ(user->push_key, PushKey());
}

TEST(StoreOpenTest, GarbageFileIsAClearError) {
  TempDir dir;
  const std::string path = dir.File("garbage.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto store = Store::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("database " + path + " is unusable: "));
  EXPECT_THAT(store.status().message(), HasSubstr("not a database"));
}

TEST(StoreOpenTest, MissingFolderIsAClearError) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/calls.db");
  auto store = Store::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            "database " + path + ": cannot create: No such file or directory");
}

TEST(StoreOpenTest, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.File("future.db");
  ASSERT_TRUE(Store::Open(path).ok());
  ExecSql(path, "PRAGMA user_version = 99");
  auto store = Store::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(), "database " + path +
                                          " has schema version 99, newer than this program's " +
                                          std::to_string(Store::kSchemaVersion) + "; "
                                          "upgrade the program");
}

TEST_F(StoreTest, UsersAreScopedByAppAndUnique) {
  NewUser("alice", "app");
  NewUser("alice", "other-app");
  auto dup = store_->CreateUser("app", "alice", "", PushKey(), "", kNow);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetUser("app", "bob").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteUser("app", "bob").code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, CreateUserWithAccessTokenIsAtomic) {
  auto alice = store_->CreateUser("app", "alice", "", PushKey(), "hash-a", kNow);
  ASSERT_TRUE(alice.ok());
  EXPECT_TRUE(*store_->HasAccessToken(alice->rowid, "hash-a"));
  // The same hash for a second user violates uniqueness: no user is left behind.
  auto bob = store_->CreateUser("app", "bob", "", PushKey(), "hash-a", kNow);
  EXPECT_FALSE(bob.ok());
  EXPECT_EQ(store_->GetUser("app", "bob").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, AccessTokens) {
  UserRecord alice = NewUser("alice");
  UserRecord bob = NewUser("bob");
  ASSERT_TRUE(store_->AddAccessToken(alice.rowid, "h1", kNow).ok());
  ASSERT_TRUE(store_->AddAccessToken(alice.rowid, "h1", kNow).ok());  // idempotent
  EXPECT_EQ(store_->AddAccessToken(bob.rowid, "h1", kNow).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(*store_->HasAccessToken(alice.rowid, "h1"));
  EXPECT_FALSE(*store_->HasAccessToken(bob.rowid, "h1"));
  ASSERT_TRUE(store_->ReplaceAccessTokens(alice.rowid, "h2", kNow).ok());
  EXPECT_FALSE(*store_->HasAccessToken(alice.rowid, "h1"));
  EXPECT_TRUE(*store_->HasAccessToken(alice.rowid, "h2"));
}

TEST_F(StoreTest, RevokingSessionTokensMarksTheirSessionKeys) {
  UserRecord alice = NewUser("alice");
  auto token = store_->AddSessionToken(alice.rowid, "t1", kNow + 1000, kNow);
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(store_->AddSessionKey("k-token", alice.rowid, token->id, kNow + 1000, kNow).ok());
  ASSERT_TRUE(store_->AddSessionKey("k-access", alice.rowid, std::nullopt, 0, kNow).ok());

  auto key = store_->FindSessionKey("k-token");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->token_revoked);
  EXPECT_EQ(key->session_token_id, token->id);
  EXPECT_EQ(key->expires_at_ms, kNow + 1000);
  EXPECT_EQ(key->user.user_id, "alice");

  EXPECT_EQ(*store_->RevokeSessionTokens(alice.rowid), 1);
  EXPECT_EQ(*store_->RevokeSessionTokens(alice.rowid), 0);  // already revoked
  EXPECT_TRUE(store_->FindSessionKey("k-token")->token_revoked);
  EXPECT_TRUE(store_->FindSessionToken(alice.rowid, "t1")->revoked);
  auto access_key = store_->FindSessionKey("k-access");
  EXPECT_FALSE(access_key->token_revoked);
  EXPECT_FALSE(access_key->session_token_id.has_value());
  EXPECT_EQ(access_key->expires_at_ms, 0);
}

TEST_F(StoreTest, SessionTokenLookupIsPerUser) {
  UserRecord alice = NewUser("alice");
  UserRecord bob = NewUser("bob");
  ASSERT_TRUE(store_->AddSessionToken(alice.rowid, "t1", kNow + 1, kNow).ok());
  EXPECT_TRUE(store_->FindSessionToken(alice.rowid, "t1").ok());
  EXPECT_EQ(store_->FindSessionToken(bob.rowid, "t1").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, DeleteSessionKey) {
  UserRecord alice = NewUser("alice");
  ASSERT_TRUE(store_->AddSessionKey("k", alice.rowid, std::nullopt, 0, kNow).ok());
  EXPECT_TRUE(store_->DeleteSessionKey("k").ok());
  EXPECT_EQ(store_->FindSessionKey("k").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteSessionKey("k").code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, DeleteUserTakesEverythingWithIt) {
  UserRecord alice = NewUser("alice");
  ASSERT_TRUE(store_->AddAccessToken(alice.rowid, "a1", kNow).ok());
  auto token = store_->AddSessionToken(alice.rowid, "t1", kNow + 1000, kNow);
  ASSERT_TRUE(store_->AddSessionKey("k1", alice.rowid, token->id, kNow + 1000, kNow).ok());
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/1", false, 20, kNow).ok());

  ASSERT_TRUE(store_->DeleteUser("app", "alice").ok());
  EXPECT_EQ(store_->FindSessionKey("k1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM access_tokens"), 0);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM session_tokens"), 0);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM session_keys"), 0);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM push_tokens"), 0);
  // A new user with the same ID starts clean.
  UserRecord again = NewUser("alice");
  EXPECT_NE(again.rowid, alice.rowid);
  EXPECT_FALSE(*store_->HasAccessToken(again.rowid, "a1"));
}

TEST_F(StoreTest, PushTokensListOldestFirstAcrossTypes) {
  UserRecord alice = NewUser("alice");
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/1", false, 20, kNow).ok());
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kRemote, "https://p/2", false, 20, kNow + 1).ok());
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/3", false, 20, kNow + 2).ok());
  auto tokens = store_->ListPushTokens(alice.rowid);
  ASSERT_TRUE(tokens.ok());
  EXPECT_THAT(*tokens, ElementsAre(Field(&PushTokenRecord::registered_at_ms, kNow),
                                   Field(&PushTokenRecord::registered_at_ms, kNow + 1),
                                   Field(&PushTokenRecord::registered_at_ms, kNow + 2)));
  EXPECT_THAT(Tokens(alice), ElementsAre("voip https://p/1", "remote https://p/2", "voip https://p/3"));
}

TEST_F(StoreTest, RegisteringAgainRefreshesAndMakesNewest) {
  UserRecord alice = NewUser("alice");
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/1", false, 20, kNow).ok());
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/2", false, 20, kNow).ok());
  auto removed = store_->RegisterPushToken(alice, PushType::kVoip, "https://p/1", false, 20, kNow + 5);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
  EXPECT_THAT(Tokens(alice), ElementsAre("voip https://p/2", "voip https://p/1"));
  EXPECT_EQ(store_->ListPushTokens(alice.rowid)->back().registered_at_ms, kNow + 5);
}

TEST_F(StoreTest, SameTokenMayBeBothTypes) {
  UserRecord alice = NewUser("alice");
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/1", false, 20, kNow).ok());
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kRemote, "https://p/1", false, 20, kNow).ok());
  EXPECT_THAT(Tokens(alice), ElementsAre("voip https://p/1", "remote https://p/1"));
}

TEST_F(StoreTest, UniqueRemovesOtherTokensOfThatTypeOnly) {
  UserRecord alice = NewUser("alice");
  for (const char* t : {"https://p/1", "https://p/2"}) {
    ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, t, false, 20, kNow).ok());
  }
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kRemote, "https://p/r", false, 20, kNow).ok());
  auto removed = store_->RegisterPushToken(alice, PushType::kVoip, "https://p/3", true, 20, kNow);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2);
  EXPECT_THAT(Tokens(alice), ElementsAre("remote https://p/r", "voip https://p/3"));
  // unique with a token already held removes only the others.
  EXPECT_EQ(*store_->RegisterPushToken(alice, PushType::kVoip, "https://p/3", true, 20, kNow), 0);
}

TEST_F(StoreTest, LimitEvictsOldest) {
  UserRecord alice = NewUser("alice");
  for (int i = 1; i <= 3; ++i) {
    auto removed = store_->RegisterPushToken(alice, PushType::kVoip,
                                             "https://p/" + std::to_string(i), false, 3, kNow);
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(*removed, 0);
  }
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kRemote, "https://p/r", false, 3, kNow).ok());
  auto removed = store_->RegisterPushToken(alice, PushType::kVoip, "https://p/4", false, 3, kNow);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_THAT(Tokens(alice), ElementsAre("voip https://p/2", "voip https://p/3", "remote https://p/r",
                                         "voip https://p/4"));
}

TEST_F(StoreTest, TokenMovesToTheUserWhoRegistersIt) {
  UserRecord alice = NewUser("alice");
  UserRecord bob = NewUser("bob");
  UserRecord other = NewUser("carol", "other-app");
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/1", false, 20, kNow).ok());
  ASSERT_TRUE(store_->RegisterPushToken(other, PushType::kVoip, "https://p/1", false, 20, kNow).ok());
  auto removed = store_->RegisterPushToken(bob, PushType::kVoip, "https://p/1", false, 20, kNow);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);  // not one of bob's own
  EXPECT_THAT(Tokens(alice), ElementsAre());
  EXPECT_THAT(Tokens(bob), ElementsAre("voip https://p/1"));
  // Another app's user keeps theirs.
  EXPECT_THAT(Tokens(other), ElementsAre("voip https://p/1"));
}

TEST_F(StoreTest, Unregister) {
  UserRecord alice = NewUser("alice");
  UserRecord bob = NewUser("bob");
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/1", false, 20, kNow).ok());
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kVoip, "https://p/2", false, 20, kNow).ok());
  ASSERT_TRUE(store_->RegisterPushToken(alice, PushType::kRemote, "https://p/1", false, 20, kNow).ok());
  ASSERT_TRUE(store_->RegisterPushToken(bob, PushType::kVoip, "https://p/b", false, 20, kNow).ok());
  EXPECT_EQ(*store_->UnregisterPushToken(bob.rowid, PushType::kVoip, "https://p/1"), 0);
  EXPECT_EQ(*store_->UnregisterPushToken(alice.rowid, PushType::kVoip, "https://p/1"), 1);
  EXPECT_EQ(*store_->UnregisterPushToken(alice.rowid, PushType::kVoip, "https://p/1"), 0);
  EXPECT_THAT(Tokens(alice), ElementsAre("voip https://p/2", "remote https://p/1"));
  EXPECT_EQ(*store_->UnregisterPushTokens(alice.rowid, PushType::kVoip), 1);
  EXPECT_THAT(Tokens(alice), ElementsAre("remote https://p/1"));
  EXPECT_THAT(Tokens(bob), ElementsAre("voip https://p/b"));
}

TEST(PushTypeTest, Names) {
  EXPECT_STREQ(PushTypeName(PushType::kVoip), "voip");
  EXPECT_STREQ(PushTypeName(PushType::kRemote), "remote");
  EXPECT_EQ(ParsePushType("voip"), PushType::kVoip);
  EXPECT_EQ(ParsePushType("remote"), PushType::kRemote);
  EXPECT_EQ(ParsePushType("VOIP"), std::nullopt);
  EXPECT_EQ(ParsePushType(""), std::nullopt);
}

}  // namespace
}  // namespace callsd::server
