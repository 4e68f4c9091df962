#include "daemon/config/config.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/net_util.h"
#include "common/status_macros.h"
#include "common/toml_reader.h"

namespace callsd::daemon {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

bool ResolveGroup(const std::string& name, gid_t* out) {
  uint32_t numeric = 0;
  if (absl::SimpleAtoi(name, &numeric)) {
    *out = numeric;
    return true;
  }
  const group* g = getgrnam(name.c_str());
  if (g == nullptr) return false;
  *out = g->gr_gid;
  return true;
}

bool ResolveUser(const std::string& name, uid_t* out) {
  uint32_t numeric = 0;
  if (absl::SimpleAtoi(name, &numeric)) {
    *out = numeric;
    return true;
  }
  const passwd* p = getpwnam(name.c_str());
  if (p == nullptr) return false;
  *out = p->pw_uid;
  return true;
}

// The uids of `names` (names or numbers) of list `key`; each unknown one
// fails naming key[i].
std::vector<uid_t> ResolveUsers(TomlReader& r, const std::string& key,
                                const std::vector<std::string>& names) {
  std::vector<uid_t> uids;
  for (size_t i = 0; i < names.size(); ++i) {
    uid_t uid = 0;
    if (!ResolveUser(names[i], &uid)) {
      r.Fail(absl::StrCat(key, "[", i, "]"), absl::StrCat("no user named \"", names[i], "\""));
    }
    uids.push_back(uid);
  }
  return uids;
}

std::vector<gid_t> ResolveGroups(TomlReader& r, const std::string& key,
                                 const std::vector<std::string>& names) {
  std::vector<gid_t> gids;
  for (size_t i = 0; i < names.size(); ++i) {
    gid_t gid = 0;
    if (!ResolveGroup(names[i], &gid)) {
      r.Fail(absl::StrCat(key, "[", i, "]"), absl::StrCat("no group named \"", names[i], "\""));
    }
    gids.push_back(gid);
  }
  return gids;
}

void Read(TomlReader& r, Config& c) {
  r.String("daemon.socket", &c.socket_path);
  r.String("daemon.socket_group", &c.socket_group);
  r.String("daemon.state_dir", &c.state_dir);
  int64_t queue = c.watcher_queue;
  r.Int("daemon.watcher_queue", 16, 1 << 20, &queue);
  c.watcher_queue = static_cast<int>(queue);

  r.String("server.url", &c.server_url);
  r.String("server.ca_file", &c.ca_file);
  r.Bool("server.allow_insecure_http", &c.allow_insecure_http);
  r.Bool("server.tls_verify", &c.tls_verify);
  r.Bool("server.allow_unverified_tls", &c.allow_unverified_tls);
  r.MillisDuration("server.request_timeout_ms", absl::Milliseconds(100), absl::Minutes(10),
                   &c.request_timeout);

  r.SecondsDuration("session.refresh_lead_s", absl::Seconds(1), absl::Hours(24),
                    &c.token_refresh_lead);
  r.MillisDuration("session.retry_initial_ms", absl::Milliseconds(10), absl::Minutes(10),
                   &c.retry_initial);
  r.MillisDuration("session.retry_max_ms", absl::Milliseconds(10), absl::Hours(1), &c.retry_max);

  r.SecondsDuration("calls.ringing_timeout_s", absl::Seconds(5), absl::Minutes(10),
                    &c.ringing_timeout);
  r.SecondsDuration("calls.reconnect_window_s", absl::Seconds(1), absl::Minutes(10),
                    &c.reconnect_window);
  r.String("push.endpoint", &c.push_endpoint);
  r.String("provision.app_id", &c.provision_app_id);
  r.String("provision.user_id", &c.provision_user);
  r.String("provision.access_token_file", &c.provision_token_file);

  r.Enum("access.control", {"group", "operators"}, &c.control_tier);
  r.StringList("access.operator_users", &c.operator_users);
  r.StringList("access.operator_groups", &c.operator_groups);
  r.StringList("access.push_distributor_users", &c.push_distributor_users);
  r.StringList("access.push_distributor_groups", &c.push_distributor_groups);
}

void Validate(TomlReader& r, Config& c) {
  if (c.socket_path.empty() || c.socket_path[0] != '/') {
    r.Fail("daemon.socket", "must be an absolute path (no abstract sockets)");
  } else if (c.socket_path.size() >= 108) {
    r.Fail("daemon.socket", "is longer than a Unix socket path may be (107 bytes)");
  }
  if (c.state_dir.empty() || c.state_dir[0] != '/') {
    r.Fail("daemon.state_dir", "must be an absolute path");
  }
  if (!c.socket_group.empty() && !ResolveGroup(c.socket_group, &c.socket_gid)) {
    r.Fail("daemon.socket_group", absl::StrCat("no group named \"", c.socket_group, "\""));
  }
  if (!c.server_url.empty()) {
    auto url = ParseUrl(c.server_url);
    if (!url.ok()) {
      r.Fail("server.url", url.status().message());
    } else if (url->scheme != "http" && url->scheme != "https") {
      r.Fail("server.url", "must be an http:// or https:// URL");
    } else if (!url->tls && !IsLoopbackHost(url->host) && !c.allow_insecure_http) {
      r.Fail("server.url",
             absl::StrCat("plain http to ", url->host,
                          " is refused (not loopback); use https, or set "
                          "server.allow_insecure_http = true if you really mean it"));
    } else if (url->tls && !c.tls_verify && !IsLoopbackHost(url->host) &&
               !c.allow_unverified_tls) {
      r.Fail("server.tls_verify",
             absl::StrCat("false is refused for ", url->host,
                          " (not loopback): anyone on the path could impersonate the server; "
                          "fix the certificate (server.ca_file), or set "
                          "server.allow_unverified_tls = true as well if you really mean it"));
    }
  }
  if (c.allow_unverified_tls && c.tls_verify) {
    r.Fail("server.allow_unverified_tls", "only goes with server.tls_verify = false");
  }
  if (!c.ca_file.empty() && access(c.ca_file.c_str(), R_OK) != 0) {
    r.Fail("server.ca_file", absl::StrCat("cannot read ", c.ca_file, ": ", std::strerror(errno)));
  }
  if (!c.push_endpoint.empty()) {
    const size_t colon = c.push_endpoint.rfind(':');
    int port = -1;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(c.push_endpoint.substr(colon + 1), &port) || port < 0 || port > 65535) {
      r.Fail("push.endpoint", "must be HOST:PORT, e.g. \"127.0.0.1:0\"");
    } else if (!IsLoopbackHost(c.push_endpoint.substr(0, colon))) {
      r.Fail("push.endpoint", "must listen on a loopback address (127.0.0.1 or ::1)");
    }
  }
  if (!c.provision_user.empty() && c.provision_app_id.empty()) {
    r.Fail("provision.user_id", "needs provision.app_id too");
  }
  if (c.provision_user.empty() != c.provision_token_file.empty()) {
    r.Fail(c.provision_user.empty() ? "provision.access_token_file" : "provision.user_id",
           "provision.user_id and provision.access_token_file go together");
  }
  if (c.retry_max < c.retry_initial) {
    r.Fail("session.retry_max_ms", "must not be smaller than session.retry_initial_ms");
  }
  c.operator_uids = ResolveUsers(r, "access.operator_users", c.operator_users);
  c.operator_gids = ResolveGroups(r, "access.operator_groups", c.operator_groups);
  c.push_distributor_uids =
      ResolveUsers(r, "access.push_distributor_users", c.push_distributor_users);
  c.push_distributor_gids =
      ResolveGroups(r, "access.push_distributor_groups", c.push_distributor_groups);
}

}  // namespace

Config DefaultConfig() {
  Config c;
  if (geteuid() == 0) {
    c.socket_path = "/run/callsd/callsd.sock";
    c.state_dir = "/var/lib/callsd";
  } else {
    const std::string runtime = EnvOr("XDG_RUNTIME_DIR", absl::StrCat("/run/user/", geteuid()));
    const std::string home = EnvOr("HOME", "/");
    c.socket_path = absl::StrCat(runtime, "/callsd/callsd.sock");
    c.state_dir = absl::StrCat(EnvOr("XDG_STATE_HOME", absl::StrCat(home, "/.local/state")),
                               "/callsd");
  }
  return c;
}

absl::StatusOr<Config> LoadConfig(const std::string& path,
                                  const std::vector<std::string>& overrides) {
  Config config = DefaultConfig();
  ASSIGN_OR_RETURN(TomlReader reader,
                   path.empty() ? TomlReader::Parse("", "(defaults)") : TomlReader::ParseFile(path));
  for (const std::string& text : overrides) {
    ASSIGN_OR_RETURN(TomlReader extra, TomlReader::Parse(text, "--set"));
    reader.Merge(extra);
  }
  Read(reader, config);
  Validate(reader, config);
  RETURN_IF_ERROR(reader.Finish());
  return config;
}

}  // namespace callsd::daemon
