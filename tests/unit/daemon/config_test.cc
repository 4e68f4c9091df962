// Config loading: defaults, file, overrides, and one clear line naming the
// key for everything wrong.
#include "daemon/config/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

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
        BadCase{"[daemon]\nsocket = \"relative.sock\"\n", "daemon.socket: must be an absolute"},
        BadCase{"[daemon]\nsocket_group = \"no-such-group-xyz\"\n",
                "daemon.socket_group: no group named"},
        BadCase{"[session]\nretry_initial_ms = 5000\nretry_max_ms = 1000\n",
                "session.retry_max_ms"},
        BadCase{"[daemon\n", ":1:"}));

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
