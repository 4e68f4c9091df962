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
      // 1 -> 2: direct calls, and whether a user ever authenticated (a
      // callee who never did cannot be called: 1400106).
      R"sql(
ALTER TABLE users ADD COLUMN authenticated_at INTEGER NOT NULL DEFAULT 0;
UPDATE users SET authenticated_at = COALESCE(
  (SELECT MIN(created_at) FROM session_keys WHERE session_keys.user_rowid = users.id), 0);
CREATE TABLE calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  call_id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL,
  -- Users by rowid (a user deleted and created again does not inherit the
  -- log) and by ID and nickname as they were when the call was made. No
  -- foreign key: the other side keeps the call in their log.
  caller_rowid INTEGER NOT NULL,
  caller_id TEXT NOT NULL,
  caller_nickname TEXT NOT NULL DEFAULT '',
  callee_rowid INTEGER NOT NULL,
  callee_id TEXT NOT NULL,
  callee_nickname TEXT NOT NULL DEFAULT '',
  video INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('ringing', 'established', 'connected', 'ended')),
  created_at INTEGER NOT NULL,
  established_at INTEGER NOT NULL DEFAULT 0,
  connected_at INTEGER NOT NULL DEFAULT 0,
  ended_at INTEGER NOT NULL DEFAULT 0,
  end_result TEXT NOT NULL DEFAULT '',
  duration_ms INTEGER NOT NULL DEFAULT 0,
  ended_by TEXT NOT NULL DEFAULT '',
  -- Each side's session key (SHA-256 hex; '' while unknown) and WebSocket
  -- connection (a number local to one server run; 0 for none).
  caller_session TEXT NOT NULL DEFAULT '',
  caller_conn INTEGER NOT NULL DEFAULT 0,
  callee_session TEXT NOT NULL DEFAULT '',
  callee_conn INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX calls_by_caller ON calls(caller_rowid, id);
CREATE INDEX calls_by_callee ON calls(callee_rowid, id);
CREATE INDEX calls_unended ON calls(state) WHERE state != 'ended';
)sql",
      // 2 -> 3: rooms (group calls). Their participants live in memory with
      // the WebSocket connections; only the room itself is kept.
      R"sql(
CREATE TABLE rooms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id TEXT NOT NULL UNIQUE,
  app_id TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('small', 'large')),
  -- The owner by rowid and by ID as it was at creation; no foreign key: a
  -- room outlives its owner's account (it can still be entered).
  owner_rowid INTEGER NOT NULL,
  owner_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  deleted_at INTEGER NOT NULL DEFAULT 0
);
)sql",
  };
  return *kMigrations;
}

}  // namespace callsd::server
