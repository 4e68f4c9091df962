#include "server/config.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/server/temp_dir.h"

namespace callsd::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

class ConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    const std::string path = dir_.File(name);
    std::ofstream(path) << content;
    chmod(path.c_str(), mode);
    return path;
  }
  absl::StatusOr<ServerConfig> Load(const std::string& content) {
    return LoadServerConfig(Write("server.conf", content));
  }
  std::string Conf() const { return dir_.File("server.conf"); }

  TempDir dir_;
};

TEST_F(ConfigTest, EmptyFileGivesDefaults) {
  auto config = Load("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1");
  EXPECT_EQ(config->port, 8080);
  EXPECT_EQ(config->database, "");
  EXPECT_EQ(config->session_token_lifetime, absl::Hours(168));
  EXPECT_EQ(config->push_tokens_per_type, 20);
  EXPECT_EQ(config->ringing_timeout, absl::Seconds(60));
  EXPECT_EQ(config->reconnect_window, absl::Seconds(15));
  EXPECT_TRUE(config->apps.ids().empty());
}

TEST_F(ConfigTest, CallTimers) {
  auto config = Load("ringing_timeout_s = 30\nreconnect_window_s = 5\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->ringing_timeout, absl::Seconds(30));
  EXPECT_EQ(config->reconnect_window, absl::Seconds(5));
  for (const char* bad : {"ringing_timeout_s = 0", "reconnect_window_s = 3601",
                          "ringing_timeout_s = \"60\""}) {
    EXPECT_FALSE(Load(bad).ok()) << bad;
  }
  EXPECT_EQ(Load("reconnect_window_s = 0").status().message(),
            "config " + Conf() + ": reconnect_window_s: must be between 1 and 3600, got 0");
}

TEST_F(ConfigTest, FullFile) {
  Write("one.token", "master-token-number-one\n");
  Write("two.token", "master-token-number-two");
  auto config = Load(R"(
listen = "0.0.0.0"
port = 9000
database = "state/calls.db"
session_token_lifetime_seconds = 3600
push_tokens_per_type = 5

[[apps]]
id = "one"
api_token_file = "one.token"

[[apps]]
id = "two"
api_token_file = ")" + dir_.File("two.token") + R"("
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "0.0.0.0");
  EXPECT_EQ(config->port, 9000);
  EXPECT_EQ(config->database, dir_.path() + "/state/calls.db");
  EXPECT_EQ(config->session_token_lifetime, absl::Hours(1));
  EXPECT_EQ(config->push_tokens_per_type, 5);
  EXPECT_THAT(config->apps.ids(), ElementsAre("one", "two"));
  // Trailing newline stripped; only the hash is kept, and it matches.
  EXPECT_EQ(config->apps.FindByToken("master-token-number-one"), "one");
  EXPECT_EQ(config->apps.FindByToken("master-token-number-two"), "two");
}

TEST_F(ConfigTest, MissingTokenFileNamesFileAndKey) {
  auto config = Load("[[apps]]\nid = \"a\"\napi_token_file = \"/nope\"\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "config " + Conf() +
                ": apps[0].api_token_file: cannot read /nope: No such file or directory");
}

TEST_F(ConfigTest, Errors) {
  Write("short.token", "short");
  Write("empty.token", "\n\n");
  Write("good.token", "a-good-master-token-0123");
  struct Case {
    std::string content;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"colour = 1", "colour: unknown key"},
      {"port = \"80\"", "port: expected an integer, got a string"},
      {"port = 70000", "port: must be between 0 and 65535, got 70000"},
      {"listen = 5", "listen: expected a string, got an integer"},
      {"listen = \"\"", "listen: must not be empty"},
      {"session_token_lifetime_seconds = 1", "session_token_lifetime_seconds: must be 60 seconds to 10 years"},
      {"push_tokens_per_type = 0", "push_tokens_per_type: must be between 1 and 1000, got 0"},
      {"apps = 1", "apps: expected an array of tables ([[apps]]), got an integer"},
      {"database = \"\"", "database: must not be empty"},
      {"database = 1", "database: expected a string, got an integer"},
      {"[daemon]\nsocket = \"/x\"", "daemon.socket: unknown key"},
      {"[[apps]]\nid = 7\napi_token_file = \"good.token\"",
       "apps[0].id: expected a string, got an integer"},
      {"[[apps]]\nid = \"\"\napi_token_file = \"good.token\"", "apps[0].id: must not be empty"},
      {"[[apps]]\napi_token_file = \"good.token\"", "apps[0].id: missing"},
      {"[[apps]]\nid = \"a\"", "apps[0].api_token_file: missing"},
      {"[[apps]]\nid = \"a\"\napi_token_file = \"good.token\"\ncolour = 2",
       "apps[0].colour: unknown key"},
      {"[[apps]]\nid = \"a\"\napi_token_file = \"short.token\"",
       "apps[0].api_token_file: the token in " + dir_.File("short.token") +
           " is too short (5 bytes; at least 16)"},
      {"[[apps]]\nid = \"a\"\napi_token_file = \"empty.token\"",
       "apps[0].api_token_file: " + dir_.File("empty.token") + " is empty"},
      {"[[apps]]\nid = \"a b\"\napi_token_file = \"good.token\"",
       "apps[0].id: app id \"a b\" may only contain letters, digits, '.', '_', '-'"},
      {"[[apps]]\nid = \"a\"\napi_token_file = \"good.token\"\n"
       "[[apps]]\nid = \"a\"\napi_token_file = \"good.token\"",
       "apps[1].id: app a is defined twice"},
  };
  for (const Case& c : cases) {
    auto config = Load(c.content);
    ASSERT_FALSE(config.ok()) << c.content;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(config.status().message(), "config " + Conf() + ": " + c.message) << c.content;
  }
}

TEST_F(ConfigTest, SyntaxErrorHasLineAndColumn) {
  auto config = Load("port = 1\nlisten = \n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("config " + Conf() + ":2:"));
}

TEST_F(ConfigTest, UnreadableFile) {
  auto config = LoadServerConfig(dir_.File("absent.conf"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "config " + dir_.File("absent.conf") + ": cannot read: No such file or directory");
}

}  // namespace
}  // namespace callsd::server
