#include "server/store/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/store/schema.h"

namespace callsd::server {
namespace {

constexpr absl::string_view kUserColumns =
    "id, app_id, user_id, nickname, created_at, push_key";

UserRecord ReadUser(const Statement& stmt, int first_column) {
  UserRecord user;
  user.rowid = stmt.ColumnInt(first_column);
  user.app_id = stmt.ColumnText(first_column + 1);
  user.user_id = stmt.ColumnText(first_column + 2);
  user.nickname = stmt.ColumnText(first_column + 3);
  user.created_at_ms = stmt.ColumnInt(first_column + 4);
  user.push_key = stmt.ColumnBlob(first_column + 5);
  return user;
}

absl::Status OpenError(const std::string& path, absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("database ", path, ": ", what));
}

// Creates the file 0600 if it does not exist (SQLite would use 0644, and its
// -wal and -shm files copy the database file's mode).
absl::Status CreatePrivateFile(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) {
    close(fd);
    return absl::OkStatus();
  }
  if (errno == EEXIST) return absl::OkStatus();
  return OpenError(path, absl::StrCat("cannot create: ", std::strerror(errno)));
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
  RETURN_IF_ERROR(CreatePrivateFile(path));
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) {
    return OpenError(path, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(db.get(), 5000);

  // The first statements read the file: a file that is not a database fails
  // here ("file is not a database").
  {
    auto journal = Statement::Prepare(db.get(), "PRAGMA journal_mode = WAL");
    if (!journal.ok()) return OpenError(path, sqlite3_errmsg(db.get()));
    auto row = journal->Step();
    if (!row.ok() || !*row) return OpenError(path, sqlite3_errmsg(db.get()));
    if (journal->ColumnText(0) != "wal") {
      return OpenError(path, absl::StrCat("cannot switch to WAL (journal mode is ",
                                          journal->ColumnText(0), ")"));
    }
  }
  {
    auto check = Statement::Prepare(db.get(), "PRAGMA quick_check");
    if (!check.ok()) return OpenError(path, sqlite3_errmsg(db.get()));
    auto row = check->Step();
    if (!row.ok() || !*row) return OpenError(path, sqlite3_errmsg(db.get()));
    if (check->ColumnText(0) != "ok") {
      return OpenError(path, absl::StrCat("corrupt: ", check->ColumnText(0)));
    }
  }
  if (absl::Status s = Exec(db.get(), "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL");
      !s.ok()) {
    return OpenError(path, s.message());
  }
  if (absl::Status s = MigrateSchema(db.get(), kSchemaVersion); !s.ok()) {
    return OpenError(path, s.message());
  }
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

Store::Store(SqliteDb db) : db_(std::move(db)) {}

Store::~Store() = default;

// ---- Users ------------------------------------------------------------------

absl::StatusOr<UserRecord> Store::CreateUser(absl::string_view app_id, absl::string_view user_id,
                                             absl::string_view nickname,
                                             absl::string_view push_key,
                                             absl::string_view access_token_hash, int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_.get());
  RETURN_IF_ERROR(txn.status());
  ASSIGN_OR_RETURN(Statement stmt,
                   Statement::Prepare(db_.get(),
                                      "INSERT INTO users (app_id, user_id, nickname, created_at, "
                                      "push_key) VALUES (?, ?, ?, ?, ?)"));
  stmt.Bind(1, app_id).Bind(2, user_id).Bind(3, nickname).Bind(4, now_ms).BindBlob(5, push_key);
  absl::Status status = stmt.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("user ", user_id, " already exists"));
  }
  RETURN_IF_ERROR(status);
  UserRecord user;
  user.rowid = sqlite3_last_insert_rowid(db_.get());
  user.app_id = std::string(app_id);
  user.user_id = std::string(user_id);
  user.nickname = std::string(nickname);
  user.created_at_ms = now_ms;
  user.push_key = std::string(push_key);
  if (!access_token_hash.empty()) {
    ASSIGN_OR_RETURN(Statement token,
                     Statement::Prepare(db_.get(),
                                        "INSERT INTO access_tokens (token_hash, user_rowid, "
                                        "created_at) VALUES (?, ?, ?)"));
    token.Bind(1, access_token_hash).Bind(2, user.rowid).Bind(3, now_ms);
    RETURN_IF_ERROR(token.Run());
  }
  RETURN_IF_ERROR(txn.Commit());
  return user;
}

absl::StatusOr<UserRecord> Store::GetUser(absl::string_view app_id, absl::string_view user_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement stmt,
      Statement::Prepare(db_.get(), absl::StrCat("SELECT ", kUserColumns,
                                                 " FROM users WHERE app_id = ? AND user_id = ?")));
  stmt.Bind(1, app_id).Bind(2, user_id);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
  return ReadUser(stmt, 0);
}

absl::Status Store::DeleteUser(absl::string_view app_id, absl::string_view user_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   Statement::Prepare(db_.get(),
                                      "DELETE FROM users WHERE app_id = ? AND user_id = ?"));
  stmt.Bind(1, app_id).Bind(2, user_id);
  RETURN_IF_ERROR(stmt.Run());  // ON DELETE CASCADE takes the rest, atomically
  if (sqlite3_changes(db_.get()) == 0) {
    return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
  }
  return absl::OkStatus();
}

// ---- Access tokens ----------------------------------------------------------

absl::Status Store::AddAccessToken(int64_t user_rowid, absl::string_view token_hash,
                                   int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement insert,
                   Statement::Prepare(db_.get(),
                                      "INSERT INTO access_tokens (token_hash, user_rowid, "
                                      "created_at) VALUES (?, ?, ?) "
                                      "ON CONFLICT (token_hash) DO NOTHING"));
  insert.Bind(1, token_hash).Bind(2, user_rowid).Bind(3, now_ms);
  RETURN_IF_ERROR(insert.Run());
  ASSIGN_OR_RETURN(Statement owner,
                   Statement::Prepare(db_.get(),
                                      "SELECT user_rowid FROM access_tokens WHERE token_hash = ?"));
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
  Transaction txn(db_.get());
  RETURN_IF_ERROR(txn.status());
  ASSIGN_OR_RETURN(Statement del, Statement::Prepare(
                                      db_.get(), "DELETE FROM access_tokens WHERE user_rowid = ?"));
  del.Bind(1, user_rowid);
  RETURN_IF_ERROR(del.Run());
  ASSIGN_OR_RETURN(Statement insert,
                   Statement::Prepare(db_.get(),
                                      "INSERT INTO access_tokens (token_hash, user_rowid, "
                                      "created_at) VALUES (?, ?, ?)"));
  insert.Bind(1, token_hash).Bind(2, user_rowid).Bind(3, now_ms);
  RETURN_IF_ERROR(insert.Run());
  return txn.Commit();
}

absl::StatusOr<bool> Store::HasAccessToken(int64_t user_rowid, absl::string_view token_hash) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   Statement::Prepare(db_.get(),
                                      "SELECT 1 FROM access_tokens WHERE token_hash = ? AND "
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
                   Statement::Prepare(db_.get(),
                                      "INSERT INTO session_tokens (token_hash, user_rowid, "
                                      "created_at, expires_at) VALUES (?, ?, ?, ?)"));
  stmt.Bind(1, token_hash).Bind(2, user_rowid).Bind(3, now_ms).Bind(4, expires_at_ms);
  RETURN_IF_ERROR(stmt.Run());
  SessionTokenRecord record;
  record.id = sqlite3_last_insert_rowid(db_.get());
  record.expires_at_ms = expires_at_ms;
  return record;
}

absl::StatusOr<SessionTokenRecord> Store::FindSessionToken(int64_t user_rowid,
                                                           absl::string_view token_hash) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   Statement::Prepare(db_.get(),
                                      "SELECT id, expires_at, revoked FROM session_tokens "
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
                   Statement::Prepare(db_.get(),
                                      "UPDATE session_tokens SET revoked = 1 "
                                      "WHERE user_rowid = ? AND revoked = 0"));
  stmt.Bind(1, user_rowid);
  RETURN_IF_ERROR(stmt.Run());
  return sqlite3_changes(db_.get());
}

// ---- Session keys -----------------------------------------------------------

absl::Status Store::AddSessionKey(absl::string_view key_hash, int64_t user_rowid,
                                  std::optional<int64_t> session_token_id, int64_t expires_at_ms,
                                  int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   Statement::Prepare(db_.get(),
                                      "INSERT INTO session_keys (key_hash, user_rowid, "
                                      "session_token_id, created_at, expires_at) "
                                      "VALUES (?, ?, ?, ?, ?)"));
  stmt.Bind(1, key_hash).Bind(2, user_rowid).Bind(4, now_ms).Bind(5, expires_at_ms);
  if (session_token_id) {
    stmt.Bind(3, *session_token_id);
  } else {
    stmt.BindNull(3);
  }
  return stmt.Run();
}

absl::StatusOr<SessionKeyRecord> Store::FindSessionKey(absl::string_view key_hash) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      Statement stmt,
      Statement::Prepare(
          db_.get(),
          "SELECT k.session_token_id, k.expires_at, COALESCE(t.revoked, 0), "
          "u.id, u.app_id, u.user_id, u.nickname, u.created_at, u.push_key "
          "FROM session_keys k JOIN users u ON u.id = k.user_rowid "
          "LEFT JOIN session_tokens t ON t.id = k.session_token_id WHERE k.key_hash = ?"));
  stmt.Bind(1, key_hash);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return absl::NotFoundError("no such session key");
  SessionKeyRecord record;
  if (!stmt.ColumnIsNull(0)) record.session_token_id = stmt.ColumnInt(0);
  record.expires_at_ms = stmt.ColumnInt(1);
  record.token_revoked = stmt.ColumnInt(2) != 0;
  record.user = ReadUser(stmt, 3);
  return record;
}

absl::Status Store::DeleteSessionKey(absl::string_view key_hash) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(
                                       db_.get(), "DELETE FROM session_keys WHERE key_hash = ?"));
  stmt.Bind(1, key_hash);
  RETURN_IF_ERROR(stmt.Run());
  if (sqlite3_changes(db_.get()) == 0) return absl::NotFoundError("no such session key");
  return absl::OkStatus();
}

}  // namespace callsd::server
