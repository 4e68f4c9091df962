#include "server/store/schema.h"

#include <iterator>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/store/sqlite.h"

namespace callsd::server {
namespace {

// Never edit a migration that has shipped; append a new one instead.
constexpr const char* kMigrations[] = {
    // 0 -> 1: users, their tokens and keys, push tokens.
    R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  app_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  nickname TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  push_key BLOB NOT NULL,
  UNIQUE (app_id, user_id)
);
CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  user_rowid INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_by_user ON access_tokens(user_rowid);
CREATE TABLE session_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  token_hash TEXT NOT NULL UNIQUE,
  user_rowid INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX session_tokens_by_user ON session_tokens(user_rowid);
CREATE TABLE session_keys (
  key_hash TEXT PRIMARY KEY,
  user_rowid INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_token_id INTEGER REFERENCES session_tokens(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX session_keys_by_user ON session_keys(user_rowid);
CREATE INDEX session_keys_by_token ON session_keys(session_token_id);
CREATE TABLE push_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  app_id TEXT NOT NULL,
  user_rowid INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('voip', 'remote')),
  token TEXT NOT NULL,
  registered_at INTEGER NOT NULL,
  UNIQUE (app_id, type, token)
);
CREATE INDEX push_tokens_by_user ON push_tokens(user_rowid, type, id);
)sql",
};

}  // namespace

absl::StatusOr<int> SchemaVersion(sqlite3* db) {
  auto stmt = Statement::Prepare(db, "PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("sqlite: PRAGMA user_version returned nothing");
  return static_cast<int>(stmt->ColumnInt(0));
}

absl::Status MigrateSchema(sqlite3* db, int target_version) {
  constexpr int kKnown = static_cast<int>(std::size(kMigrations));
  if (target_version > kKnown) {
    return absl::InternalError(absl::StrCat("no migration to schema version ", target_version));
  }
  auto version = SchemaVersion(db);
  if (!version.ok()) return version.status();
  if (*version > target_version) {
    return absl::FailedPreconditionError(
        absl::StrCat("schema version ", *version, " is newer than this server's (",
                     target_version, "); use a newer calls-server"));
  }
  for (int v = *version; v < target_version; ++v) {
    Transaction txn(db);
    if (!txn.status().ok()) return txn.status();
    absl::Status status = Exec(db, kMigrations[v]);
    if (!status.ok()) return status;
    status = Exec(db, absl::StrCat("PRAGMA user_version = ", v + 1).c_str());
    if (!status.ok()) return status;
    status = txn.Commit();
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace callsd::server
