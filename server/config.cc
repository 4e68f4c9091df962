#include "server/config.h"

#include <sys/stat.h>

#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/toml_reader.h"
#include "glog/logging.h"
#include "server/file_util.h"

namespace callsd::server {
namespace {

// Reads a string that must be present and not empty. False when it is not
// usable; the reader then holds an error (this one or an earlier one).
bool RequiredString(TomlReader& reader, const std::string& key, std::string* out) {
  if (!reader.Has(key)) {
    reader.Fail(key, "missing");
    return false;
  }
  reader.String(key, out);  // leaves *out empty on a type error
  if (out->empty()) reader.Fail(key, "must not be empty");
  return !out->empty();
}

// The [[apps]]: each one's master token is read from its api_token_file.
void ReadApps(TomlReader& reader, const std::string& base_dir, AppRegistry* apps) {
  const size_t count = reader.TableArraySize("apps");
  for (size_t i = 0; i < count; ++i) {
    const std::string id_key = absl::StrCat("apps[", i, "].id");
    const std::string file_key = absl::StrCat("apps[", i, "].api_token_file");
    std::string id;
    std::string file;
    if (!RequiredString(reader, id_key, &id) || !RequiredString(reader, file_key, &file)) return;
    const std::string token_path = ResolvePath(base_dir, file);
    absl::StatusOr<std::string> token = ReadSecretFile(token_path);
    if (!token.ok()) {
      reader.Fail(file_key, token.status().message());
      return;
    }
    if (token->size() < kMinMasterTokenBytes) {
      reader.Fail(file_key, absl::StrCat("the token in ", token_path, " is too short (",
                                         token->size(), " bytes; at least ", kMinMasterTokenBytes,
                                         ")"));
      return;
    }
    struct stat st;
    if (stat(token_path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
      LOG(WARNING) << "config: " << token_path << " is readable by other users; chmod 600 it";
    }
    if (absl::Status s = apps->Add(id, *token); !s.ok()) {
      reader.Fail(id_key, s.message());
      return;
    }
  }
}

}  // namespace

absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path) {
  ASSIGN_OR_RETURN(TomlReader reader, TomlReader::ParseFile(path));
  ServerConfig config;
  const std::string base_dir = DirName(path);

  reader.String("listen", &config.listen);
  if (config.listen.empty()) reader.Fail("listen", "must not be empty");

  int64_t port = config.port;
  reader.Int("port", 0, 65535, &port);
  config.port = static_cast<int>(port);

  if (reader.Has("database")) {
    std::string database;
    reader.String("database", &database);
    if (database.empty()) reader.Fail("database", "must not be empty");
    config.database = ResolvePath(base_dir, database);
  }

  for (auto [key, out] : {std::pair{"tls_cert_file", &config.tls_cert_file},
                          std::pair{"tls_key_file", &config.tls_key_file}}) {
    if (!reader.Has(key)) continue;
    std::string file;
    reader.String(key, &file);
    if (file.empty()) reader.Fail(key, "must not be empty");
    *out = ResolvePath(base_dir, file);
  }
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    reader.Fail(config.tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file",
                "tls_cert_file and tls_key_file go together");
  }

  // Range checked here for a message in days and years rather than seconds.
  int64_t lifetime = absl::ToInt64Seconds(config.session_token_lifetime);
  reader.Int("session_token_lifetime_seconds", std::numeric_limits<int64_t>::min(),
             std::numeric_limits<int64_t>::max(), &lifetime);
  if (lifetime < 60 || lifetime > int64_t{10} * 366 * 24 * 3600) {
    reader.Fail("session_token_lifetime_seconds", "must be 60 seconds to 10 years");
  }
  config.session_token_lifetime = absl::Seconds(lifetime);

  int64_t per_type = config.push_tokens_per_type;
  reader.Int("push_tokens_per_type", 1, 1000, &per_type);
  config.push_tokens_per_type = static_cast<int>(per_type);

  reader.SecondsDuration("ringing_timeout_s", absl::Seconds(kMinCallTimerSeconds),
                         absl::Seconds(kMaxCallTimerSeconds), &config.ringing_timeout);
  reader.SecondsDuration("reconnect_window_s", absl::Seconds(kMinCallTimerSeconds),
                         absl::Seconds(kMaxCallTimerSeconds), &config.reconnect_window);

  ReadApps(reader, base_dir, &config.apps);
  RETURN_IF_ERROR(reader.Finish());
  return config;
}

}  // namespace callsd::server
