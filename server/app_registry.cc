#include "server/app_registry.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"

namespace callsd::server {

absl::Status AppRegistry::Add(absl::string_view app_id, absl::string_view master_token) {
  if (app_id.empty() || app_id.size() > 128) {
    return absl::InvalidArgumentError("app id must be 1 to 128 characters");
  }
  for (char c : app_id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("app id \"", app_id, "\" may only contain letters, digits, '.', '_', '-'"));
    }
  }
  if (master_token.empty()) return absl::InvalidArgumentError("master token is empty");
  const std::string hash = Sha256Hex(master_token);
  for (const App& app : apps_) {
    if (app.id == app_id) {
      return absl::AlreadyExistsError(absl::StrCat("app ", app_id, " is defined twice"));
    }
    if (app.token_sha256 == hash) {
      return absl::AlreadyExistsError(
          absl::StrCat("app ", app_id, " has the same master token as app ", app.id));
    }
  }
  apps_.push_back(App{std::string(app_id), hash});
  return absl::OkStatus();
}

std::optional<std::string> AppRegistry::FindByToken(absl::string_view token) const {
  const std::string hash = Sha256Hex(token);
  std::optional<std::string> found;
  for (const App& app : apps_) {
    // No early exit: the time does not depend on which app matches.
    if (ConstantTimeEquals(app.token_sha256, hash)) found = app.id;
  }
  return found;
}

bool AppRegistry::Contains(absl::string_view app_id) const {
  for (const App& app : apps_) {
    if (app.id == app_id) return true;
  }
  return false;
}

std::vector<std::string> AppRegistry::ids() const {
  std::vector<std::string> ids;
  for (const App& app : apps_) ids.push_back(app.id);
  return ids;
}

}  // namespace callsd::server
