#include "server/config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include <toml++/toml.h>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "server/file_util.h"

namespace callsd::server {
namespace {

class ConfigError {
 public:
  explicit ConfigError(std::string path) : path_(std::move(path)) {}
  absl::Status operator()(absl::string_view key, absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat("config ", path_, ": ", key, ": ", problem));
  }
  absl::Status Whole(absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat("config ", path_, ": ", problem));
  }

 private:
  std::string path_;
};

absl::Status CheckKeys(const toml::table& table, absl::string_view prefix,
                       std::initializer_list<absl::string_view> known, const ConfigError& error) {
  for (const auto& [key, node] : table) {
    const absl::string_view name(key.str().data(), key.str().size());
    bool ok = false;
    for (absl::string_view k : known) ok |= (k == name);
    if (!ok) return error(absl::StrCat(prefix, name), "unknown key");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> GetString(const toml::table& table,
                                                     absl::string_view key,
                                                     absl::string_view full_key,
                                                     const ConfigError& error) {
  const toml::node* node = table.get(std::string_view(key.data(), key.size()));
  if (node == nullptr) return std::optional<std::string>();
  if (!node->is_string()) return error(full_key, "must be a string");
  return std::optional<std::string>(node->value<std::string>().value());
}

absl::StatusOr<std::optional<int64_t>> GetInt(const toml::table& table, absl::string_view key,
                                              const ConfigError& error) {
  const toml::node* node = table.get(std::string_view(key.data(), key.size()));
  if (node == nullptr) return std::optional<int64_t>();
  if (!node->is_integer()) return error(key, "must be an integer");
  return std::optional<int64_t>(node->value<int64_t>().value());
}

absl::Status LoadApps(const toml::table& root, const std::string& base_dir,
                      const ConfigError& error, AppRegistry* apps) {
  const toml::node* node = root.get("apps");
  if (node == nullptr) return absl::OkStatus();
  const toml::array* array = node->as_array();
  if (array == nullptr) return error("apps", "must be an array of tables ([[apps]])");
  for (size_t i = 0; i < array->size(); ++i) {
    const std::string prefix = absl::StrCat("apps[", i, "]");
    const toml::table* app = (*array)[i].as_table();
    if (app == nullptr) return error(prefix, "must be a table");
    if (absl::Status s = CheckKeys(*app, prefix + ".", {"id", "api_token_file"}, error); !s.ok()) {
      return s;
    }
    auto id = GetString(*app, "id", prefix + ".id", error);
    if (!id.ok()) return id.status();
    if (!id->has_value()) return error(prefix + ".id", "missing");
    auto file = GetString(*app, "api_token_file", prefix + ".api_token_file", error);
    if (!file.ok()) return file.status();
    if (!file->has_value()) return error(prefix + ".api_token_file", "missing");
    const std::string token_path = ResolvePath(base_dir, **file);
    absl::StatusOr<std::string> token = ReadSecretFile(token_path);
    if (!token.ok()) return error(prefix + ".api_token_file", token.status().message());
    if (token->size() < kMinMasterTokenBytes) {
      return error(prefix + ".api_token_file",
                   absl::StrCat("the token in ", token_path, " is too short (", token->size(),
                                " bytes; at least ", kMinMasterTokenBytes, ")"));
    }
    struct stat st;
    if (stat(token_path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
      LOG(WARNING) << "config: " << token_path << " is readable by other users; chmod 600 it";
    }
    if (absl::Status s = apps->Add(**id, *token); !s.ok()) return error(prefix + ".id", s.message());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path) {
  const ConfigError error(path);
  {
    std::ifstream probe(path);
    if (!probe) return error.Whole(absl::StrCat("cannot read: ", std::strerror(errno)));
  }
  toml::parse_result parsed = toml::parse_file(path);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ":", e.source().begin.line,
                                                   ":", e.source().begin.column, ": ",
                                                   std::string(e.description())));
  }
  const toml::table& root = parsed.table();
  if (absl::Status s = CheckKeys(root, "",
                                 {"listen", "port", "database", "session_token_lifetime_seconds",
                                  "push_tokens_per_type", "apps"},
                                 error);
      !s.ok()) {
    return s;
  }

  ServerConfig config;
  const std::string base_dir = DirName(path);
  auto listen = GetString(root, "listen", "listen", error);
  if (!listen.ok()) return listen.status();
  if (listen->has_value()) {
    if ((*listen)->empty()) return error("listen", "must not be empty");
    config.listen = **listen;
  }
  auto port = GetInt(root, "port", error);
  if (!port.ok()) return port.status();
  if (port->has_value()) {
    if (**port < 0 || **port > 65535) return error("port", "must be 0 to 65535");
    config.port = static_cast<int>(**port);
  }
  auto database = GetString(root, "database", "database", error);
  if (!database.ok()) return database.status();
  if (database->has_value()) {
    if ((*database)->empty()) return error("database", "must not be empty");
    config.database = ResolvePath(base_dir, **database);
  }
  auto lifetime = GetInt(root, "session_token_lifetime_seconds", error);
  if (!lifetime.ok()) return lifetime.status();
  if (lifetime->has_value()) {
    if (**lifetime < 60 || **lifetime > int64_t{10} * 366 * 24 * 3600) {
      return error("session_token_lifetime_seconds", "must be 60 seconds to 10 years");
    }
    config.session_token_lifetime = absl::Seconds(**lifetime);
  }
  auto per_type = GetInt(root, "push_tokens_per_type", error);
  if (!per_type.ok()) return per_type.status();
  if (per_type->has_value()) {
    if (**per_type < 1 || **per_type > 1000) return error("push_tokens_per_type", "must be 1 to 1000");
    config.push_tokens_per_type = static_cast<int>(**per_type);
  }
  if (absl::Status s = LoadApps(root, base_dir, error, &config.apps); !s.ok()) return s;
  return config;
}

}  // namespace callsd::server
