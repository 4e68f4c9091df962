// AppRegistry: the apps this server serves and the SHA-256 of each app's
// master Api-Token. The tokens themselves are never kept.
#ifndef CALLSD_SERVER_APP_REGISTRY_H_
#define CALLSD_SERVER_APP_REGISTRY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace callsd::server {

class AppRegistry {
 public:
  AppRegistry() = default;

  // Adds an app. INVALID_ARGUMENT for an id that is empty, longer than 128
  // bytes or not [A-Za-z0-9._-]; ALREADY_EXISTS for a second app with the
  // same id or the same master token. Not thread-safe: add every app before
  // sharing the registry.
  absl::Status Add(absl::string_view app_id, absl::string_view master_token);

  // Thread-safe (const). The app whose master token is `token`, compared in
  // constant time against every app; nullopt for none.
  std::optional<std::string> FindByToken(absl::string_view token) const;

  // Thread-safe (const).
  bool Contains(absl::string_view app_id) const;
  std::vector<std::string> ids() const;

 private:
  struct App {
    std::string id;
    std::string token_sha256;  // hex
  };
  std::vector<App> apps_;
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_APP_REGISTRY_H_
