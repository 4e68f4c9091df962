// Store: the migration to schema 3 (rooms) and the rooms table.
#include <memory>
#include <string>

#include "common/sqlite_db.h"
#include "gtest/gtest.h"
#include "server/store/schema.h"
#include "server/store/store.h"
#include "tests/unit/server/temp_dir.h"

namespace callsd::server {
namespace {

using testing::TempDir;

constexpr int64_t kNow = 1'800'000'000'000;

RoomRecord Room(const std::string& id, const std::string& type = "small") {
  RoomRecord room;
  room.room_id = id;
  room.app_id = "app";
  room.type = type;
  room.owner_rowid = 7;
  room.owner_id = "alice";
  room.created_at_ms = kNow;
  return room;
}

TEST(StoreRoomsMigrationTest, Version2GainsRoomsAndKeepsCalls) {
  TempDir dir;
  const std::string path = dir.File("v2.db");
  {
    auto db = SqliteDb::Open(path, SqliteDb::Options());
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Migrate({SchemaMigrations()[0], SchemaMigrations()[1]}).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO calls (call_id, app_id, caller_rowid, caller_id, "
                           "callee_rowid, callee_id, state, created_at) VALUES ('c1', 'app', 1, "
                           "'alice', 2, 'bob', 'ended', 10)")
                    .ok());
  }
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Store::kSchemaVersion, 3);
  EXPECT_EQ((*store)->GetCall("c1")->callee_id, "bob");
  EXPECT_TRUE((*store)->InsertRoom(Room("r1")).ok());
  EXPECT_EQ((*store)->GetRoom("r1")->owner_id, "alice");
  store->reset();
  auto db = SqliteDb::Open(path, SqliteDb::Options());
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*(*db)->UserVersion(), 3);
}

class StoreRoomsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.File("rooms.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreRoomsTest, InsertAndGet) {
  auto first = store_->InsertRoom(Room("r1", "large"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = store_->InsertRoom(Room("r2"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(*second, *first);

  auto room = store_->GetRoom("r1");
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_EQ(room->rowid, *first);
  EXPECT_EQ(room->room_id, "r1");
  EXPECT_EQ(room->app_id, "app");
  EXPECT_EQ(room->type, "large");
  EXPECT_EQ(room->owner_rowid, 7);
  EXPECT_EQ(room->owner_id, "alice");
  EXPECT_EQ(room->created_at_ms, kNow);
  EXPECT_FALSE(room->deleted);
  EXPECT_EQ(room->deleted_at_ms, 0);
}

TEST_F(StoreRoomsTest, DuplicateIdsAndUnknownRooms) {
  ASSERT_TRUE(store_->InsertRoom(Room("r1")).ok());
  absl::StatusOr<int64_t> again = store_->InsertRoom(Room("r1"));
  EXPECT_TRUE(absl::IsAlreadyExists(again.status())) << again.status();
  EXPECT_EQ(again.status().message(), "room r1 already exists");
  EXPECT_TRUE(absl::IsNotFound(store_->GetRoom("nope").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->MarkRoomDeleted("nope", kNow)));
}

TEST_F(StoreRoomsTest, OnlySmallAndLargeTypes) {
  EXPECT_FALSE(store_->InsertRoom(Room("r1", "huge")).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->GetRoom("r1").status()));
}

TEST_F(StoreRoomsTest, DeletedRoomsAreKeptWithTheirFirstDeletionTime) {
  ASSERT_TRUE(store_->InsertRoom(Room("r1")).ok());
  ASSERT_TRUE(store_->MarkRoomDeleted("r1", kNow + 5).ok());
  ASSERT_TRUE(store_->MarkRoomDeleted("r1", kNow + 9).ok());
  auto room = store_->GetRoom("r1");
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_TRUE(room->deleted);
  EXPECT_EQ(room->deleted_at_ms, kNow + 5);
}

}  // namespace
}  // namespace callsd::server
