#include "server/store/schema.h"

namespace callsd::server {

const std::vector<std::string>& SchemaMigrations() {
  // Never edit a migration that has shipped; append a new one instead.
  static const std::vector<std::string>* const kMigrations = new std::vector<std::string>{
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
  return *kMigrations;
}

}  // namespace callsd::server
