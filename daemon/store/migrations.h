// The state database's schema, one migration per version. Append only:
// migrations[i] moves a database from user_version i to i + 1.
#ifndef CALLSD_DAEMON_STORE_MIGRATIONS_H_
#define CALLSD_DAEMON_STORE_MIGRATIONS_H_

#include <string>
#include <vector>

namespace callsd::daemon {

const std::vector<std::string>& StateMigrations();

// Tables holding call-related data: what ResetApp deletes.
const std::vector<std::string>& CallRelatedTables();

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_STORE_MIGRATIONS_H_
