// Config loading: defaults, file, overrides, and one clear line naming the
// key for everything wrong.
#include "daemon/config/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::daemon {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsd-config-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& text) {
    const std::string path = dir_ + "/callsd.conf";
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(ConfigTest, FileValuesAndOverrides) {
  const std::string path = Write(R"(
[daemon]
socket = "/tmp/x/callsd.sock"
state_dir = "/tmp/x/state"
watcher_queue = 64
[server]
url = "http://127.0.0.1:8080"
request_timeout_ms = 2500
[session]
refresh_lead_s = 30
retry_initial_ms = 200
retry_max_ms = 5000
[access]
control = "operators"
operator_users = ["0"]
operator_groups = ["0"]
push_distributor_users = ["4711", "root"]
push_distributor_groups = ["4712"]
)");
  auto config = LoadConfig(path, {"server.request_timeout_ms = 3000"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->socket_path, "/tmp/x/callsd.sock");
  EXPECT_EQ(config->state_dir, "/tmp/x/state");
  EXPECT_EQ(config->watcher_queue, 64);
  EXPECT_EQ(config->server_url, "http://127.0.0.1:8080");
  EXPECT_EQ(config->request_timeout, absl::Milliseconds(3000));
  EXPECT_EQ(config->token_refresh_lead, absl::Seconds(30));
  EXPECT_EQ(config->retry_initial, absl::Milliseconds(200));
  EXPECT_EQ(config->retry_max, absl::Seconds(5));
  EXPECT_EQ(config->control_tier, "operators");
  EXPECT_THAT(config->operator_uids, ::testing::ElementsAre(0u));
  EXPECT_THAT(config->operator_gids, ::testing::ElementsAre(0u));
  EXPECT_THAT(config->push_distributor_uids, ::testing::ElementsAre(4711u, 0u));
  EXPECT_THAT(config->push_distributor_gids, ::testing::ElementsAre(4712u));
}

TEST_F(ConfigTest, DefaultsWithoutAFile) {
  auto config = LoadConfig("", {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->socket_path.empty());
  EXPECT_EQ(config->request_timeout, absl::Seconds(10));
  EXPECT_EQ(config->control_tier, "group");
  EXPECT_FALSE(config->allow_insecure_http);
}

struct BadCase {
  std::string text;
  std::string expect;  // in the one-line error
};

class BadConfigTest : public ConfigTest, public ::testing::WithParamInterface<BadCase> {};

TEST_P(BadConfigTest, NamesTheKey) {
  const std::string path = Write(GetParam().text);
  auto config = LoadConfig(path, {});
  ASSERT_FALSE(config.ok());
  const std::string message(config.status().message());
  EXPECT_THAT(message, HasSubstr(path));
  EXPECT_THAT(message, HasSubstr(GetParam().expect));
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadCase{"[daemon]\nsokcet = \"/x\"\n", "daemon.sokcet: unknown key"},
        BadCase{"[server]\nrequest_timeout_ms = \"fast\"\n",
                "server.request_timeout_ms: expected an integer"},
        BadCase{"[server]\nrequest_timeout_ms = 5\n",
                "server.request_timeout_ms: must be between 100 and 600000"},
        BadCase{"[server]\nurl = \"http://calls.example.com\"\n",
                "server.url: plain http to calls.example.com is refused"},
        BadCase{"[server]\nurl = \"ftp://x\"\n", "server.url"},
        BadCase{"[access]\ncontrol = \"everyone\"\n", "access.control: must be one of"},
        BadCase{"[access]\noperator_users = [\"no-such-user-xyz\"]\n",
                "access.operator_users[0]: no user named"},
        BadCase{"[access]\npush_distributor_users = [\"0\", \"no-such-user-xyz\"]\n",
                "access.push_distributor_users[1]: no user named \"no-such-user-xyz\""},
        BadCase{"[access]\npush_distributor_groups = [\"no-such-group-xyz\"]\n",
                "access.push_distributor_groups[0]: no group named"},
        BadCase{"[daemon]\nsocket = \"relative.sock\"\n", "daemon.socket: must be an absolute"},
        BadCase{"[daemon]\nsocket_group = \"no-such-group-xyz\"\n",
                "daemon.socket_group: no group named"},
        BadCase{"[session]\nretry_initial_ms = 5000\nretry_max_ms = 1000\n",
                "session.retry_max_ms"},
        BadCase{"[server]\nurl = \"https://calls.example.com\"\ntls_verify = false\n",
                "server.tls_verify: false is refused for calls.example.com (not loopback)"},
        BadCase{"[server]\nurl = \"https://calls.example.com\"\nallow_unverified_tls = true\n",
                "server.allow_unverified_tls: only goes with server.tls_verify = false"},
        BadCase{"[server]\ntls_verify = \"no\"\n", "server.tls_verify: expected true or false"},
        BadCase{"[daemon\n", ":1:"}));

// Verification is on unless switched off, and off needs a second key for a
// remote host; on loopback (a development server) the one key is enough.
TEST_F(ConfigTest, UnverifiedTlsNeedsTheExplicitSettingForRemoteHosts) {
  auto defaults = LoadConfig("", {});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(defaults->tls_verify);
  EXPECT_FALSE(defaults->allow_unverified_tls);

  auto remote = LoadConfig(Write("[server]\nurl = \"https://calls.example.com\"\n"
                                 "tls_verify = false\nallow_unverified_tls = true\n"),
                           {});
  ASSERT_TRUE(remote.ok()) << remote.status();
  EXPECT_FALSE(remote->tls_verify);

  for (const char* host : {"127.0.0.1", "localhost", "[::1]"}) {
    auto local = LoadConfig(
        "", {absl::StrCat("server.url = \"https://", host, ":8443\"\nserver.tls_verify = false")});
    ASSERT_TRUE(local.ok()) << host << ": " << local.status();
    EXPECT_FALSE(local->tls_verify);
  }
  // An override cannot slip it in for a remote host either.
  auto overridden = LoadConfig(Write("[server]\nurl = \"https://calls.example.com\"\n"),
                               {"server.tls_verify = false"});
  ASSERT_FALSE(overridden.ok());
  EXPECT_THAT(overridden.status().message(), HasSubstr("server.tls_verify"));
}

TEST_F(ConfigTest, InsecureHttpNeedsTheExplicitSetting) {
  const std::string path =
      Write("[server]\nurl = \"http://calls.example.com\"\nallow_insecure_http = true\n");
  auto config = LoadConfig(path, {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->allow_insecure_http);
}

TEST_F(ConfigTest, MissingFileIsNamed) {
  auto config = LoadConfig(dir_ + "/nope.conf", {});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr(dir_ + "/nope.conf"));
}

TEST_F(ConfigTest, BadOverrideIsNamed) {
  auto config = LoadConfig("", {"server.request_timeout_ms = true"});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("server.request_timeout_ms"));
}

}  // namespace
}  // namespace callsd::daemon

namespace callsd::daemon {
namespace {

// The shipped config/callsd.conf documents every key with its default:
// uncommenting every "#key = value" line must give a valid config equal to
// the defaults (server.url aside, which has no default).
TEST(ShippedConfigTest, DocumentsEveryKeyWithItsDefault) {
  std::ifstream in(std::string(CALLSD_SOURCE_DIR) + "/config/callsd.conf");
  ASSERT_TRUE(in.good());
  std::string text, line;
  int keys = 0;
  while (std::getline(in, line)) {
    if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && line.find(" = ") != std::string::npos) {
      line = line.substr(1);
      ++keys;
    }
    text += line + "\n";
  }
  EXPECT_GE(keys, 14);
  char tmpl[] = "/tmp/callsd-shipped-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/callsd.conf";
  std::ofstream(path) << text;
  // The documented socket group may not exist here: keep the daemon's.
  auto loaded = LoadConfig(path, {"daemon.socket_group = \"\""});
  std::filesystem::remove_all(tmpl);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Config defaults = DefaultConfig();
  if (geteuid() == 0) {
    EXPECT_EQ(loaded->socket_path, defaults.socket_path);
    EXPECT_EQ(loaded->state_dir, defaults.state_dir);
  }
  EXPECT_EQ(loaded->watcher_queue, defaults.watcher_queue);
  EXPECT_EQ(loaded->allow_insecure_http, defaults.allow_insecure_http);
  EXPECT_EQ(loaded->request_timeout, defaults.request_timeout);
  EXPECT_EQ(loaded->token_refresh_lead, defaults.token_refresh_lead);
  EXPECT_EQ(loaded->retry_initial, defaults.retry_initial);
  EXPECT_EQ(loaded->retry_max, defaults.retry_max);
  EXPECT_EQ(loaded->control_tier, defaults.control_tier);
  EXPECT_EQ(loaded->push_distributor_uids, defaults.push_distributor_uids);
  EXPECT_EQ(loaded->ca_file, defaults.ca_file);
  EXPECT_EQ(loaded->tls_verify, defaults.tls_verify);
  EXPECT_EQ(loaded->allow_unverified_tls, defaults.allow_unverified_tls);
}

}  // namespace
}  // namespace callsd::daemon
