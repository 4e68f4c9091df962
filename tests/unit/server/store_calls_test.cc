// Store: the migration to schema 2 (calls, authenticated_at) and the calls
// table (records, ringing lists, call-log pages).
#include <memory>
#include <string>
#include <vector>

#include "common/sqlite_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/schema.h"
#include "server/store/store.h"
#include "tests/unit/server/temp_dir.h"

namespace callsd::server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::TempDir;

constexpr int64_t kNow = 1'800'000'000'000;

// The database as schema version 1 left it: alice logged in once (her
// session has since been ended: no key left), bob has a live key, carol
// never logged in.
void MakeVersion1Database(const std::string& path) {
  auto db = SqliteDb::Open(path, SqliteDb::Options());
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Migrate({SchemaMigrations()[0]}).ok());
  ASSERT_TRUE((*db)
                  ->Exec(R"sql(
INSERT INTO users (id, app_id, user_id, nickname, created_at, push_key)
  VALUES (1, 'app', 'alice', 'Alice', 10, x'01'), (2, 'app', 'bob', 'Bob', 20, x'02'),
         (3, 'app', 'carol', '', 30, x'03');
INSERT INTO session_keys (key_hash, user_rowid, created_at) VALUES ('k1', 2, 500), ('k2', 2, 400);
)sql")
                  .ok());
}

TEST(StoreMigrationTest, Version1GainsCallsAndAuthenticatedAt) {
  TempDir dir;
  const std::string path = dir.File("v1.db");
  MakeVersion1Database(path);
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  {
    auto db = SqliteDb::Open(path, SqliteDb::Options());
    ASSERT_TRUE(db.ok());
    EXPECT_EQ(*(*db)->UserVersion(), Store::kSchemaVersion);
  }
  // Data kept; bob's first key is his first authentication; alice's ended
  // session left no trace (she cannot be told apart from carol).
  auto bob = (*store)->GetUser("app", "bob");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->authenticated_at_ms, 400);
  EXPECT_EQ(bob->push_key, "\x02");
  EXPECT_EQ((*store)->GetUser("app", "carol")->authenticated_at_ms, 0);
  // The calls table is there.
  CallRecord call;
  call.call_id = "c1";
  call.app_id = "app";
  call.caller_rowid = 1;
  call.caller_id = "alice";
  call.callee_rowid = 2;
  call.callee_id = "bob";
  call.state = "ringing";
  EXPECT_TRUE((*store)->InsertCall(call).ok());
  // Reopening is a no-op.
  store->reset();
  ASSERT_TRUE(Store::Open(path).ok());
}

class StoreCallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.File("calls.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    alice_ = *store_->CreateUser("app", "alice", "Alice", "k", "", kNow);
    bob_ = *store_->CreateUser("app", "bob", "Bob", "k", "", kNow);
    carol_ = *store_->CreateUser("app", "carol", "Carol", "k", "", kNow);
  }

  CallRecord Call(const std::string& id, const UserRecord& caller, const UserRecord& callee,
                  const std::string& state = "ringing") {
    CallRecord call;
    call.call_id = id;
    call.app_id = "app";
    call.caller_rowid = caller.rowid;
    call.caller_id = caller.user_id;
    call.caller_nickname = caller.nickname;
    call.callee_rowid = callee.rowid;
    call.callee_id = callee.user_id;
    call.callee_nickname = callee.nickname;
    call.state = state;
    call.created_at_ms = kNow;
    return call;
  }
  std::string Insert(const CallRecord& call) {
    auto rowid = store_->InsertCall(call);
    EXPECT_TRUE(rowid.ok()) << rowid.status();
    return call.call_id;
  }
  static std::vector<std::string> Ids(const std::vector<CallRecord>& calls) {
    std::vector<std::string> ids;
    for (const CallRecord& c : calls) ids.push_back(c.call_id);
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  UserRecord alice_, bob_, carol_;
};

TEST_F(StoreCallsTest, FirstSessionKeySetsAuthenticatedAt) {
  EXPECT_EQ(store_->GetUser("app", "alice")->authenticated_at_ms, 0);
  ASSERT_TRUE(store_->AddSessionKey("h1", alice_.rowid, std::nullopt, 0, kNow + 5).ok());
  ASSERT_TRUE(store_->AddSessionKey("h2", alice_.rowid, std::nullopt, 0, kNow + 9).ok());
  EXPECT_EQ(store_->GetUser("app", "alice")->authenticated_at_ms, kNow + 5);
  // Ending the session does not undo it.
  ASSERT_TRUE(store_->DeleteSessionKey("h1").ok());
  ASSERT_TRUE(store_->DeleteSessionKey("h2").ok());
  EXPECT_EQ(store_->GetUser("app", "alice")->authenticated_at_ms, kNow + 5);
  EXPECT_EQ(store_->FindSessionKey("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreCallsTest, EveryFieldRoundTrips) {
  CallRecord call = Call("c1", alice_, bob_);
  call.video = true;
  call.caller_session = "hash-a";
  call.caller_conn = 7;
  auto rowid = store_->InsertCall(call);
  ASSERT_TRUE(rowid.ok());
  EXPECT_GT(*rowid, 0);
  EXPECT_EQ(store_->InsertCall(call).status().code(), absl::StatusCode::kAlreadyExists);

  call.state = "ended";
  call.established_at_ms = kNow + 1;
  call.connected_at_ms = kNow + 2;
  call.ended_at_ms = kNow + 3;
  call.end_result = "completed";
  call.duration_ms = 1;
  call.ended_by = "bob";
  call.callee_session = "hash-b";
  call.callee_conn = 9;
  ASSERT_TRUE(store_->UpdateCall(call).ok());
  auto got = store_->GetCall("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->rowid, *rowid);
  EXPECT_EQ(got->app_id, "app");
  EXPECT_EQ(got->caller_rowid, alice_.rowid);
  EXPECT_EQ(got->caller_id, "alice");
  EXPECT_EQ(got->caller_nickname, "Alice");
  EXPECT_EQ(got->callee_rowid, bob_.rowid);
  EXPECT_EQ(got->callee_id, "bob");
  EXPECT_EQ(got->callee_nickname, "Bob");
  EXPECT_TRUE(got->video);
  EXPECT_EQ(got->state, "ended");
  EXPECT_EQ(got->created_at_ms, kNow);
  EXPECT_EQ(got->established_at_ms, kNow + 1);
  EXPECT_EQ(got->connected_at_ms, kNow + 2);
  EXPECT_EQ(got->ended_at_ms, kNow + 3);
  EXPECT_EQ(got->end_result, "completed");
  EXPECT_EQ(got->duration_ms, 1);
  EXPECT_EQ(got->ended_by, "bob");
  EXPECT_EQ(got->caller_session, "hash-a");
  EXPECT_EQ(got->caller_conn, 7u);
  EXPECT_EQ(got->callee_session, "hash-b");
  EXPECT_EQ(got->callee_conn, 9u);

  EXPECT_EQ(store_->GetCall("c2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateCall(Call("c2", alice_, bob_)).code(), absl::StatusCode::kNotFound);
  // A bad state is refused by the schema.
  EXPECT_FALSE(store_->InsertCall(Call("c3", alice_, bob_, "flying")).ok());
}

TEST_F(StoreCallsTest, RingingAndUnendedLists) {
  Insert(Call("r1", alice_, bob_));
  Insert(Call("a1", alice_, bob_, "connected"));
  Insert(Call("r2", carol_, bob_));
  Insert(Call("r3", bob_, alice_));
  Insert(Call("e1", alice_, bob_, "ended"));
  EXPECT_THAT(Ids(*store_->ListRingingCalls(bob_.rowid)), ElementsAre("r1", "r2"));
  EXPECT_THAT(Ids(*store_->ListRingingCalls(alice_.rowid)), ElementsAre("r3"));
  EXPECT_THAT(Ids(*store_->ListRingingCalls(carol_.rowid)), IsEmpty());
  EXPECT_THAT(Ids(*store_->ListUnendedCalls()), ElementsAre("r1", "a1", "r2", "r3"));
}

TEST_F(StoreCallsTest, CallLogPagesNewestFirst) {
  for (int i = 1; i <= 5; ++i)
    Insert(Call("ab" + std::to_string(i), i % 2 ? alice_ : bob_, i % 2 ? bob_ : alice_, "ended"));
  Insert(Call("bc", bob_, carol_, "ended"));  // not alice's

  auto page = store_->ListCalls(alice_.rowid, 2, 0);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(Ids(page->calls), ElementsAre("ab5", "ab4"));
  ASSERT_NE(page->next_before_rowid, 0);
  page = store_->ListCalls(alice_.rowid, 2, page->next_before_rowid);
  EXPECT_THAT(Ids(page->calls), ElementsAre("ab3", "ab2"));
  page = store_->ListCalls(alice_.rowid, 2, page->next_before_rowid);
  EXPECT_THAT(Ids(page->calls), ElementsAre("ab1"));
  EXPECT_EQ(page->next_before_rowid, 0);

  // Exactly a full page: no next.
  page = store_->ListCalls(alice_.rowid, 5, 0);
  EXPECT_EQ(page->calls.size(), 5u);
  EXPECT_EQ(page->next_before_rowid, 0);
  EXPECT_THAT(Ids(store_->ListCalls(carol_.rowid, 20, 0)->calls), ElementsAre("bc"));
  EXPECT_THAT(Ids(store_->ListCalls(bob_.rowid, 1, 0)->calls), ElementsAre("bc"));
  EXPECT_FALSE(store_->ListCalls(alice_.rowid, 0, 0).ok());
}

}  // namespace
}  // namespace callsd::server
