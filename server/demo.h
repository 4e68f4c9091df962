// The demo setup (--demo_dir): an app and two users ready to use, with their
// secrets in files, so that the README's demo and tests need no admin step.
#ifndef CALLSD_SERVER_DEMO_H_
#define CALLSD_SERVER_DEMO_H_

#include <string>

#include "absl/status/status.h"
#include "common/scheduler.h"
#include "server/app_registry.h"
#include "server/store/store.h"

namespace callsd::server {

inline constexpr char kDemoAppId[] = "demo-app";

// Makes sure, in `dir` (created 0700 if missing):
//  - DIR/api-token holds the master token of app "demo-app" (created 0600
//    with a new random token if missing; reused otherwise), and adds the app
//    to `apps`;
//  - users "alice" (nickname "Alice") and "bob" ("Bob") exist in `store`;
//  - DIR/alice.token and DIR/bob.token hold a valid access token of each: an
//    existing file is reused (its token is registered again if the database
//    is new); a missing one is re-issued (replacing the user's access tokens).
// Idempotent: a restart with the same folder and database changes nothing.
// FAILED_PRECONDITION naming the file on I/O errors, or when a token file
// holds another user's token.
absl::Status SetUpDemo(const std::string& dir, Store* store, AppRegistry* apps,
                       const Clock& clock);

}  // namespace callsd::server

#endif  // CALLSD_SERVER_DEMO_H_
