#include "daemon/store/migrations.h"

namespace callsd::daemon {

const std::vector<std::string>& StateMigrations() {
  static const std::vector<std::string>* const migrations = new std::vector<std::string>{
      // 1: the APP_ID and the logged-in user.
      R"sql(
        CREATE TABLE app (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          app_id TEXT NOT NULL,
          initialized_at INTEGER NOT NULL
        );
        CREATE TABLE session (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          user_id TEXT NOT NULL,
          nickname TEXT NOT NULL DEFAULT '',
          token_kind INTEGER NOT NULL CHECK (token_kind IN (1, 2)),
          token TEXT NOT NULL,
          token_expires_at INTEGER,
          session_key TEXT NOT NULL DEFAULT '',
          push_key BLOB NOT NULL DEFAULT x'',
          authenticated_at INTEGER
        );
      )sql",
      // 2: push device tokens and server work queued across restarts.
      R"sql(
        CREATE TABLE push_tokens (
          type INTEGER NOT NULL CHECK (type IN (1, 2)),
          token TEXT NOT NULL,
          state INTEGER NOT NULL CHECK (state IN (1, 2, 3)),
          is_unique INTEGER NOT NULL DEFAULT 0,
          error_code INTEGER NOT NULL DEFAULT 0,
          error TEXT NOT NULL DEFAULT '',
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (type, token)
        );
        CREATE TABLE pending_ops (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),
          app_id TEXT NOT NULL,
          session_key TEXT NOT NULL,
          type INTEGER NOT NULL DEFAULT 1,
          token TEXT NOT NULL DEFAULT '',
          attempts INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        );
      )sql",
      // 3: calls (to survive restarts and recognise late pushes) and the
      // cached call log.
      R"sql(
        CREATE TABLE calls (
          call_id TEXT PRIMARY KEY,
          direction INTEGER NOT NULL,
          caller_id TEXT NOT NULL,
          caller_nickname TEXT NOT NULL DEFAULT '',
          callee_id TEXT NOT NULL,
          callee_nickname TEXT NOT NULL DEFAULT '',
          video INTEGER NOT NULL DEFAULT 0,
          state INTEGER NOT NULL,
          started_at INTEGER NOT NULL,
          established_at INTEGER,
          connected_at INTEGER,
          ended_at INTEGER,
          end_result INTEGER NOT NULL DEFAULT 0,
          ended_by TEXT NOT NULL DEFAULT '',
          ringing_until INTEGER
        );
        CREATE TABLE call_log (
          call_id TEXT PRIMARY KEY,
          info BLOB NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX call_log_by_time ON call_log (created_at DESC);
      )sql",
  };
  return *migrations;
}

const std::vector<std::string>& CallRelatedTables() {
  static const std::vector<std::string>* const tables = new std::vector<std::string>{
      "session",
      "push_tokens",
      "pending_ops",
      "calls",
      "call_log",
  };
  return *tables;
}

}  // namespace callsd::daemon
