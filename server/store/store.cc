#include "server/store/store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/store/schema.h"

namespace callsd::server {
namespace {

constexpr absl::string_view kUserColumns =
    "id, app_id, user_id, nickname, created_at, push_key, authenticated_at";

UserRecord ReadUser(const Statement& stmt, int first_column) {
  UserRecord user;
  user.rowid = stmt.ColumnInt(first_column);
  user.app_id = stmt.ColumnText(first_column + 1);
  user.user_id = stmt.ColumnText(first_column + 2);
  user.nickname = stmt.ColumnText(first_column + 3);
  user.created_at_ms = stmt.ColumnInt(first_column + 4);
  user.push_key = stmt.ColumnBlob(first_column + 5);
  user.authenticated_at_ms = stmt.ColumnInt(first_column + 6);
  return user;
}

// Store::Open's contract: every reason not to open is FAILED_PRECONDITION
// (SqliteDb's messages already name the file).
absl::Status Unusable(const absl::Status& status) {
  return absl::FailedPreconditionError(status.message());
}

absl::StatusOr<std::string> JournalMode(SqliteDb& db) {
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare("PRAGMA journal_mode"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnText(0) : std::string();
}

}  // namespace

const char* PushTypeName(PushType type) {
  return type == PushType::kVoip ? "voip" : "remote";
}

std::optional<PushType> ParsePushType(absl::string_view name) {
  if (name == "voip") return PushType::kVoip;
  if (name == "remote") return PushType::kRemote;
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  // Creates the file 0600, WAL, synchronous=FULL, foreign keys, quick_check.
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, SqliteDb::Options());
  if (!db.ok()) return Unusable(db.status());
  // SQLite keeps the old journal mode when it cannot use WAL; the store
  // relies on WAL (readers never block the writer), so refuse.
  absl::StatusOr<std::string> mode = JournalMode(**db);
  if (!mode.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, ": ", mode.status().message()));
  }
  if (*mode != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, ": cannot switch to WAL (journal mode is ", *mode, ")"));
  }
  const std::vector<std::string>& migrations = SchemaMigrations();
  if (migrations.size() != static_cast<size_t>(kSchemaVersion)) {
    return absl::InternalError(absl::StrCat("Store::kSchemaVersion is ", kSchemaVersion,
                                            " but there are ", migrations.size(), " migrations"));
  }
  if (absl::Status s = (*db)->Migrate(migrations); !s.ok()) return Unusable(s);
  return std::unique_ptr<Store>(new Store(*std::move(db)));
}

Store::Store(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

Store::~Store() = default;

// ---- Users ------------------------------------------------------------------

absl::StatusOr<UserRecord> Store::CreateUser(absl::string_view app_id, absl::string_view user_id,
                                             absl::string_view nickname,
                                             absl::string_view push_key,
                                             absl::string_view access_token_hash, int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  SqliteDb& db = *db_;
  UserRecord user;
  RETURN_IF_ERROR(db.Transaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     db.Prepare("INSERT INTO users (app_id, user_id, nickname, created_at, "
                                "push_key) VALUES (?, ?, ?, ?, ?)"));
    stmt.Bind(1, app_id).Bind(2, user_id).Bind(3, nickname).Bind(4, now_ms).BindBlob(5, push_key);
    absl::Status status = stmt.Run();
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(absl::StrCat("user ", user_id, " already exists"));
    }
    RETURN_IF_ERROR(status);
    user.rowid = db.LastInsertRowId();
    user.app_id = std::string(app_id);
    user.user_id = std::string(user_id);
    user.nickname = std::string(nickname);
    user.created_at_ms = now_ms;
    user.push_key = std::string(push_key);
    if (access_token_hash.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(Statement token,
                     db.Prepare("INSERT INTO access_tokens (token_hash, user_rowid, "
                                "created_at) VALUES (?, ?, ?)"));
    token.Bind(1, access_token_hash).Bind(2, user.rowid).Bind(3, now_ms);
    return token.Run();
  }));
  return user;
}

absl::StatusOr<UserRecord> Store::GetUser(absl::string_view app_id, absl::string_view user_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare(absl::StrCat("SELECT ", kUserColumns,
                                " FROM users WHERE app_id = ? AND user_id = ?")));
  stmt.Bind(1, app_id).Bind(2, user_id);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
  return ReadUser(stmt, 0);
}

absl::Status Store::DeleteUser(absl::string_view app_id, absl::string_view user_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("DELETE FROM users WHERE app_id = ? AND user_id = ?"));
  stmt.Bind(1, app_id).Bind(2, user_id);
  RETURN_IF_ERROR(stmt.Run());  // ON DELETE CASCADE takes the rest, atomically
  if (db_->Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
  }
  return absl::OkStatus();
}

// ---- Access tokens ----------------------------------------------------------

absl::Status Store::AddAccessToken(int64_t user_rowid, absl::string_view token_hash,
                                   int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement insert,
                   db_->Prepare("INSERT INTO access_tokens (token_hash, user_rowid, "
                                "created_at) VALUES (?, ?, ?) "
                                "ON CONFLICT (token_hash) DO NOTHING"));
  insert.Bind(1, token_hash).Bind(2, user_rowid).Bind(3, now_ms);
  RETURN_IF_ERROR(insert.Run());
  ASSIGN_OR_RETURN(Statement owner,
                   db_->Prepare("SELECT user_rowid FROM access_tokens WHERE token_hash = ?"));
  owner.Bind(1, token_hash);
  ASSIGN_OR_RETURN(bool found, owner.Step());
  if (!found || owner.ColumnInt(0) != user_rowid) {
    return absl::AlreadyExistsError("access token belongs to another user");
  }
  return absl::OkStatus();
}

absl::Status Store::ReplaceAccessTokens(int64_t user_rowid, absl::string_view token_hash,
                                        int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  SqliteDb& db = *db_;
  return db.Transaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM access_tokens WHERE user_rowid = ?"));
    del.Bind(1, user_rowid);
    RETURN_IF_ERROR(del.Run());
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO access_tokens (token_hash, user_rowid, "
                                "created_at) VALUES (?, ?, ?)"));
    insert.Bind(1, token_hash).Bind(2, user_rowid).Bind(3, now_ms);
    return insert.Run();
  });
}

absl::StatusOr<bool> Store::HasAccessToken(int64_t user_rowid, absl::string_view token_hash) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("SELECT 1 FROM access_tokens WHERE token_hash = ? AND "
                                "user_rowid = ?"));
  stmt.Bind(1, token_hash).Bind(2, user_rowid);
  return stmt.Step();
}

// ---- Session tokens ---------------------------------------------------------

absl::StatusOr<SessionTokenRecord> Store::AddSessionToken(int64_t user_rowid,
                                                          absl::string_view token_hash,
                                                          int64_t expires_at_ms, int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("INSERT INTO session_tokens (token_hash, user_rowid, "
                                "created_at, expires_at) VALUES (?, ?, ?, ?)"));
  stmt.Bind(1, token_hash).Bind(2, user_rowid).Bind(3, now_ms).Bind(4, expires_at_ms);
  RETURN_IF_ERROR(stmt.Run());
  SessionTokenRecord record;
  record.id = db_->LastInsertRowId();
  record.expires_at_ms = expires_at_ms;
  return record;
}

absl::StatusOr<SessionTokenRecord> Store::FindSessionToken(int64_t user_rowid,
                                                           absl::string_view token_hash) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("SELECT id, expires_at, revoked FROM session_tokens "
                                "WHERE token_hash = ? AND user_rowid = ?"));
  stmt.Bind(1, token_hash).Bind(2, user_rowid);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return absl::NotFoundError("no such session token");
  SessionTokenRecord record;
  record.id = stmt.ColumnInt(0);
  record.expires_at_ms = stmt.ColumnInt(1);
  record.revoked = stmt.ColumnInt(2) != 0;
  return record;
}

absl::StatusOr<int> Store::RevokeSessionTokens(int64_t user_rowid) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("UPDATE session_tokens SET revoked = 1 "
                                "WHERE user_rowid = ? AND revoked = 0"));
  stmt.Bind(1, user_rowid);
  RETURN_IF_ERROR(stmt.Run());
  return db_->Changes();
}

// ---- Session keys -----------------------------------------------------------

absl::Status Store::AddSessionKey(absl::string_view key_hash, int64_t user_rowid,
                                  std::optional<int64_t> session_token_id, int64_t expires_at_ms,
                                  int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  SqliteDb& db = *db_;
  return db.Transaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     db.Prepare("INSERT INTO session_keys (key_hash, user_rowid, "
                                "session_token_id, created_at, expires_at) "
                                "VALUES (?, ?, ?, ?, ?)"));
    stmt.Bind(1, key_hash).Bind(2, user_rowid).Bind(3, session_token_id).Bind(4, now_ms);
    stmt.Bind(5, expires_at_ms);
    RETURN_IF_ERROR(stmt.Run());
    ASSIGN_OR_RETURN(Statement first,
                     db.Prepare("UPDATE users SET authenticated_at = ? "
                                "WHERE id = ? AND authenticated_at = 0"));
    first.Bind(1, now_ms).Bind(2, user_rowid);
    return first.Run();
  });
}

absl::StatusOr<SessionKeyRecord> Store::FindSessionKey(absl::string_view key_hash) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare("SELECT k.session_token_id, k.expires_at, COALESCE(t.revoked, 0), "
                   "u.id, u.app_id, u.user_id, u.nickname, u.created_at, u.push_key, "
                   "u.authenticated_at "
                   "FROM session_keys k JOIN users u ON u.id = k.user_rowid "
                   "LEFT JOIN session_tokens t ON t.id = k.session_token_id WHERE k.key_hash = ?"));
  stmt.Bind(1, key_hash);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return absl::NotFoundError("no such session key");
  SessionKeyRecord record;
  record.session_token_id = stmt.ColumnOptionalInt(0);
  record.expires_at_ms = stmt.ColumnInt(1);
  record.token_revoked = stmt.ColumnInt(2) != 0;
  record.user = ReadUser(stmt, 3);
  return record;
}

absl::Status Store::DeleteSessionKey(absl::string_view key_hash) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("DELETE FROM session_keys WHERE key_hash = ?"));
  stmt.Bind(1, key_hash);
  RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return absl::NotFoundError("no such session key");
  return absl::OkStatus();
}

}  // namespace callsd::server
