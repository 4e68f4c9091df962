// The store's schema as a list of migrations for SqliteDb::Migrate: migration
// i (0-based) brings a database from user_version i to i + 1.
#ifndef CALLSD_SERVER_STORE_SCHEMA_H_
#define CALLSD_SERVER_STORE_SCHEMA_H_

#include <string>
#include <vector>

namespace callsd::server {

// Every migration, oldest first; its size is the schema version this build
// writes (Store::kSchemaVersion).
const std::vector<std::string>& SchemaMigrations();

}  // namespace callsd::server

#endif  // CALLSD_SERVER_STORE_SCHEMA_H_
