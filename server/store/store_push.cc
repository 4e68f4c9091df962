// Store: push tokens.
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/store/store.h"

namespace callsd::server {

absl::StatusOr<int> Store::RegisterPushToken(const UserRecord& user, PushType type,
                                             absl::string_view token, bool unique,
                                             int max_per_type, int64_t now_ms) {
  const char* type_name = PushTypeName(type);
  absl::MutexLock lock(&mu_);
  SqliteDb& db = *db_;
  int removed = 0;
  RETURN_IF_ERROR(db.Transaction([&]() -> absl::Status {
    // Delete and insert (rather than update) so that the AUTOINCREMENT id
    // orders tokens by their latest registration, even within one
    // millisecond. This also moves a token held by another user of the app to
    // this user.
    ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM push_tokens WHERE app_id = ? AND "
                                               "type = ? AND token = ?"));
    del.Bind(1, user.app_id).Bind(2, type_name).Bind(3, token);
    RETURN_IF_ERROR(del.Run());
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO push_tokens (app_id, user_rowid, type, token, "
                                "registered_at) VALUES (?, ?, ?, ?, ?)"));
    insert.Bind(1, user.app_id).Bind(2, user.rowid).Bind(3, type_name).Bind(4, token);
    insert.Bind(5, now_ms);
    RETURN_IF_ERROR(insert.Run());
    const int64_t new_id = db.LastInsertRowId();

    if (unique) {
      ASSIGN_OR_RETURN(Statement others,
                       db.Prepare("DELETE FROM push_tokens WHERE user_rowid = ? AND type = ? "
                                  "AND id != ?"));
      others.Bind(1, user.rowid).Bind(2, type_name).Bind(3, new_id);
      RETURN_IF_ERROR(others.Run());
      removed += db.Changes();
    }
    // Evict the oldest beyond the limit (keep the newest max_per_type).
    ASSIGN_OR_RETURN(Statement evict,
                     db.Prepare("DELETE FROM push_tokens WHERE id IN ("
                                "SELECT id FROM push_tokens WHERE user_rowid = ? AND type = ? "
                                "ORDER BY id DESC LIMIT -1 OFFSET ?)"));
    evict.Bind(1, user.rowid).Bind(2, type_name).Bind(3, static_cast<int64_t>(max_per_type));
    RETURN_IF_ERROR(evict.Run());
    removed += db.Changes();
    return absl::OkStatus();
  }));
  return removed;
}

absl::StatusOr<int> Store::UnregisterPushToken(int64_t user_rowid, PushType type,
                                               absl::string_view token) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("DELETE FROM push_tokens WHERE user_rowid = ? AND type = ? "
                                "AND token = ?"));
  stmt.Bind(1, user_rowid).Bind(2, PushTypeName(type)).Bind(3, token);
  RETURN_IF_ERROR(stmt.Run());
  return db_->Changes();
}

absl::StatusOr<int> Store::UnregisterPushTokens(int64_t user_rowid, PushType type) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("DELETE FROM push_tokens WHERE user_rowid = ? AND type = ?"));
  stmt.Bind(1, user_rowid).Bind(2, PushTypeName(type));
  RETURN_IF_ERROR(stmt.Run());
  return db_->Changes();
}

absl::StatusOr<std::vector<PushTokenRecord>> Store::ListPushTokens(int64_t user_rowid) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("SELECT type, token, registered_at FROM push_tokens "
                                "WHERE user_rowid = ? ORDER BY id"));
  stmt.Bind(1, user_rowid);
  std::vector<PushTokenRecord> tokens;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    PushTokenRecord record;
    record.type = ParsePushType(stmt.ColumnText(0)).value_or(PushType::kVoip);
    record.token = stmt.ColumnText(1);
    record.registered_at_ms = stmt.ColumnInt(2);
    tokens.push_back(std::move(record));
  }
  return tokens;
}

}  // namespace callsd::server
