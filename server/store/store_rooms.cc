// Store: rooms (group calls).
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/store/store.h"

namespace callsd::server {
namespace {

constexpr absl::string_view kRoomColumns =
    "id, room_id, app_id, type, owner_rowid, owner_id, created_at, deleted, deleted_at";

RoomRecord ReadRoom(const Statement& stmt) {
  RoomRecord room;
  room.rowid = stmt.ColumnInt(0);
  room.room_id = stmt.ColumnText(1);
  room.app_id = stmt.ColumnText(2);
  room.type = stmt.ColumnText(3);
  room.owner_rowid = stmt.ColumnInt(4);
  room.owner_id = stmt.ColumnText(5);
  room.created_at_ms = stmt.ColumnInt(6);
  room.deleted = stmt.ColumnInt(7) != 0;
  room.deleted_at_ms = stmt.ColumnInt(8);
  return room;
}

}  // namespace

absl::StatusOr<int64_t> Store::InsertRoom(const RoomRecord& room) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare("INSERT INTO rooms (room_id, app_id, type, owner_rowid, owner_id, "
                   "created_at, deleted, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt.Bind(1, room.room_id).Bind(2, room.app_id).Bind(3, room.type).Bind(4, room.owner_rowid);
  stmt.Bind(5, room.owner_id).Bind(6, room.created_at_ms);
  stmt.Bind(7, int64_t{room.deleted ? 1 : 0}).Bind(8, room.deleted_at_ms);
  absl::Status status = stmt.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("room ", room.room_id, " already exists"));
  }
  RETURN_IF_ERROR(status);
  return db_->LastInsertRowId();
}

absl::StatusOr<RoomRecord> Store::GetRoom(absl::string_view room_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(absl::StrCat("SELECT ", kRoomColumns,
                                                             " FROM rooms WHERE room_id = ?")));
  stmt.Bind(1, room_id);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("room ", room_id, " not found"));
  return ReadRoom(stmt);
}

absl::Status Store::MarkRoomDeleted(absl::string_view room_id, int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("UPDATE rooms SET deleted = 1, deleted_at = CASE WHEN deleted "
                                "THEN deleted_at ELSE ?1 END WHERE room_id = ?2"));
  stmt.Bind(1, now_ms).Bind(2, room_id);
  RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return absl::NotFoundError(absl::StrCat("room ", room_id, " not found"));
  return absl::OkStatus();
}

}  // namespace callsd::server
