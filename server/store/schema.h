// The store's schema as a list of migrations: migration i (0-based) brings a
// database from user_version i to i + 1.
#ifndef CALLSD_SERVER_STORE_SCHEMA_H_
#define CALLSD_SERVER_STORE_SCHEMA_H_

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace callsd::server {

// Applies the migrations from the database's user_version up to
// `target_version`, each in its own transaction. FAILED_PRECONDITION when the
// database is newer than `target_version`; INTERNAL on SQLite errors.
absl::Status MigrateSchema(sqlite3* db, int target_version);

// The user_version of `db`.
absl::StatusOr<int> SchemaVersion(sqlite3* db);

}  // namespace callsd::server

#endif  // CALLSD_SERVER_STORE_SCHEMA_H_
