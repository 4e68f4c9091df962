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
  };
  return *migrations;
}

const std::vector<std::string>& CallRelatedTables() {
  static const std::vector<std::string>* const tables = new std::vector<std::string>{
      "session",
  };
  return *tables;
}

}  // namespace callsd::daemon
