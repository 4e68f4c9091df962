// callsctl's argument parser: every command, the global options, help, and
// every usage error (exit status 2 with a clear message and the usage line).
#include "client-lib/callsctl/args.h"

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client-lib/callsctl/callsctl.h"
#include "fake_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Invocation ParseOk(const std::vector<std::string>& args) {
  ParseResult result = ParseArgs(args);
  EXPECT_TRUE(result.invocation.has_value()) << "error: " << result.error;
  return result.invocation.value_or(Invocation());
}

TEST(CallsctlArgsTest, Status) {
  Invocation inv = ParseOk({"status"});
  EXPECT_EQ(inv.command, Command::kStatus);
  EXPECT_EQ(inv.name, "status");
  EXPECT_EQ(inv.global.socket_path, "");
  EXPECT_FALSE(inv.global.json);
  EXPECT_FALSE(inv.global.timeout.has_value());
}

TEST(CallsctlArgsTest, GlobalOptionsBeforeAndAfterTheCommand) {
  Invocation inv = ParseOk({"--socket", "/x.sock", "--json", "status", "--timeout", "2.5"});
  EXPECT_EQ(inv.command, Command::kStatus);
  EXPECT_EQ(inv.global.socket_path, "/x.sock");
  EXPECT_TRUE(inv.global.json);
  ASSERT_TRUE(inv.global.timeout.has_value());
  EXPECT_EQ(*inv.global.timeout, absl::Milliseconds(2500));

  inv = ParseOk({"status", "--socket=/y.sock", "--timeout=1"});
  EXPECT_EQ(inv.global.socket_path, "/y.sock");
  EXPECT_EQ(*inv.global.timeout, absl::Seconds(1));
}

TEST(CallsctlArgsTest, Init) {
  Invocation inv = ParseOk({"init", "demo-app"});
  EXPECT_EQ(inv.command, Command::kInit);
  EXPECT_EQ(inv.app_id, "demo-app");
}

TEST(CallsctlArgsTest, LoginWithTokenFile) {
  Invocation inv = ParseOk({"login", "alice", "--token-file", "/tmp/t"});
  EXPECT_EQ(inv.command, Command::kLogin);
  EXPECT_EQ(inv.user_id, "alice");
  EXPECT_EQ(inv.token.file, "/tmp/t");
  EXPECT_FALSE(inv.token.from_stdin);
  EXPECT_FALSE(inv.session_token);
}

TEST(CallsctlArgsTest, LoginWithSessionTokenFromStdin) {
  Invocation inv = ParseOk({"login", "--token-stdin", "--session-token", "alice"});
  EXPECT_EQ(inv.user_id, "alice");
  EXPECT_TRUE(inv.token.from_stdin);
  EXPECT_TRUE(inv.session_token);
}

TEST(CallsctlArgsTest, Logout) {
  EXPECT_FALSE(ParseOk({"logout"}).keep_push_tokens);
  Invocation inv = ParseOk({"logout", "--keep-push-tokens"});
  EXPECT_EQ(inv.command, Command::kLogout);
  EXPECT_TRUE(inv.keep_push_tokens);
}

TEST(CallsctlArgsTest, RefreshToken) {
  Invocation inv = ParseOk({"refresh-token", "--token-file=/t"});
  EXPECT_EQ(inv.command, Command::kRefreshToken);
  EXPECT_EQ(inv.token.file, "/t");
  EXPECT_TRUE(ParseOk({"refresh-token", "--token-stdin"}).token.from_stdin);
}

TEST(CallsctlArgsTest, Watch) { EXPECT_EQ(ParseOk({"watch", "--json"}).command, Command::kWatch); }

TEST(CallsctlArgsTest, PushCommands) {
  Invocation inv = ParseOk({"push", "register", "voip", "https://p.example/1", "--unique"});
  EXPECT_EQ(inv.command, Command::kPushRegister);
  EXPECT_EQ(inv.name, "push register");
  EXPECT_EQ(inv.push_type, v1::PUSH_TOKEN_TYPE_VOIP);
  EXPECT_EQ(inv.url, "https://p.example/1");
  EXPECT_TRUE(inv.unique);

  inv = ParseOk({"push", "register", "REMOTE", "https://p.example/2"});
  EXPECT_EQ(inv.push_type, v1::PUSH_TOKEN_TYPE_REMOTE);
  EXPECT_FALSE(inv.unique);

  inv = ParseOk({"push", "unregister", "remote", "https://p.example/2"});
  EXPECT_EQ(inv.command, Command::kPushUnregister);
  EXPECT_EQ(inv.push_type, v1::PUSH_TOKEN_TYPE_REMOTE);
  EXPECT_EQ(inv.url, "https://p.example/2");

  inv = ParseOk({"push", "unregister-all", "voip"});
  EXPECT_EQ(inv.command, Command::kPushUnregisterAll);
  EXPECT_EQ(inv.push_type, v1::PUSH_TOKEN_TYPE_VOIP);

  EXPECT_EQ(ParseOk({"push", "list"}).command, Command::kPushList);
}

TEST(CallsctlArgsTest, PushDeliver) {
  Invocation inv = ParseOk({"push", "deliver"});
  EXPECT_EQ(inv.command, Command::kPushDeliver);
  EXPECT_EQ(inv.name, "push deliver");
  EXPECT_TRUE(ParseOk({"--json", "push", "deliver"}).global.json);
}

TEST(CallsctlArgsTest, Dial) {
  Invocation inv = ParseOk({"dial", "bob"});
  EXPECT_EQ(inv.command, Command::kDial);
  EXPECT_EQ(inv.name, "dial");
  EXPECT_EQ(inv.callee_id, "bob");
  EXPECT_FALSE(inv.video);

  inv = ParseOk({"dial", "--video", "bob", "--json"});
  EXPECT_EQ(inv.callee_id, "bob");
  EXPECT_TRUE(inv.video);
  EXPECT_TRUE(inv.global.json);

  // A user id that looks like an option, after "--".
  EXPECT_EQ(ParseOk({"dial", "--", "-odd"}).callee_id, "-odd");
}

TEST(CallsctlArgsTest, CallIdCommands) {
  const std::pair<const char*, Command> cases[] = {
      {"accept", Command::kAccept}, {"decline", Command::kDecline}, {"end", Command::kEnd},
      {"mute", Command::kMute},     {"unmute", Command::kUnmute},
  };
  for (const auto& [name, command] : cases) {
    Invocation inv = ParseOk({name, "3f2a9c"});
    EXPECT_EQ(inv.command, command) << name;
    EXPECT_EQ(inv.name, name);
    EXPECT_EQ(inv.call_id, "3f2a9c") << name;
    EXPECT_EQ(inv.callee_id, "") << name;
  }
}

TEST(CallsctlArgsTest, Calls) {
  Invocation inv = ParseOk({"calls", "--json"});
  EXPECT_EQ(inv.command, Command::kCalls);
  EXPECT_TRUE(inv.global.json);
}

TEST(CallsctlArgsTest, History) {
  Invocation inv = ParseOk({"history"});
  EXPECT_EQ(inv.command, Command::kHistory);
  EXPECT_EQ(inv.history_limit, 0);  // The daemon's default.
  EXPECT_EQ(inv.history_next, "");

  inv = ParseOk({"history", "--limit", "5", "--next", "c-17"});
  EXPECT_EQ(inv.history_limit, 5);
  EXPECT_EQ(inv.history_next, "c-17");

  inv = ParseOk({"history", "--limit=1", "--next=abc=="});
  EXPECT_EQ(inv.history_limit, 1);
  EXPECT_EQ(inv.history_next, "abc==");
  EXPECT_EQ(ParseOk({"history", "--limit", "100"}).history_limit, 100);
}

TEST(CallsctlArgsTest, RoomCommands) {
  Invocation inv = ParseOk({"room", "create"});
  EXPECT_EQ(inv.command, Command::kRoomCreate);
  EXPECT_EQ(inv.name, "room create");
  EXPECT_EQ(inv.room_type, v1::ROOM_TYPE_UNSPECIFIED);
  EXPECT_EQ(ParseOk({"room", "create", "--type", "large"}).room_type, v1::ROOM_TYPE_LARGE);
  EXPECT_EQ(ParseOk({"room", "create", "--type=Small"}).room_type, v1::ROOM_TYPE_SMALL);

  inv = ParseOk({"room", "enter", "r-1", "--muted"});
  EXPECT_EQ(inv.command, Command::kRoomEnter);
  EXPECT_EQ(inv.room_id, "r-1");
  EXPECT_TRUE(inv.room_muted);
  EXPECT_FALSE(ParseOk({"room", "enter", "r-1"}).room_muted);

  const std::pair<const char*, Command> with_id[] = {
      {"exit", Command::kRoomExit},     {"show", Command::kRoomShow},
      {"mute", Command::kRoomMute},     {"unmute", Command::kRoomUnmute},
      {"delete", Command::kRoomDelete},
  };
  for (const auto& [word, command] : with_id) {
    inv = ParseOk({"--json", "room", word, "r-2"});
    EXPECT_EQ(inv.command, command) << word;
    EXPECT_EQ(inv.name, absl::StrCat("room ", word));
    EXPECT_EQ(inv.room_id, "r-2") << word;
    EXPECT_TRUE(inv.global.json);
  }
  EXPECT_EQ(ParseOk({"room", "list"}).command, Command::kRoomList);
}

TEST(CallsctlArgsTest, DoubleDashEndsOptions) {
  Invocation inv = ParseOk({"push", "register", "voip", "--", "--odd-url"});
  EXPECT_EQ(inv.url, "--odd-url");
}

TEST(CallsctlArgsTest, HelpTopics) {
  struct Case {
    std::vector<std::string> args;
    std::string topic;
  };
  const Case cases[] = {
      {{"help"}, ""},
      {{"--help"}, ""},
      {{"-h"}, ""},
      {{"help", "login"}, "login"},
      {{"login", "--help"}, "login"},
      // Help wins over what would be a usage error.
      {{"login", "-h"}, "login"},
      {{"push", "--help"}, "push"},
      {{"help", "push"}, "push"},
      {{"push", "register", "-h"}, "push register"},
      {{"help", "push", "unregister-all"}, "push unregister-all"},
      {{"status", "--json", "--help"}, "status"},
      {{"help", "watch", "--help"}, "watch"},
      {{"dial", "--help"}, "dial"},
      {{"dial", "bob", "extra", "-h"}, "dial"},
      {{"help", "accept"}, "accept"},
      {{"end", "-h"}, "end"},
      {{"mute", "--help"}, "mute"},
      {{"unmute", "--help"}, "unmute"},
      {{"decline", "--help"}, "decline"},
      {{"calls", "--help"}, "calls"},
      {{"history", "--limit", "0", "--help"}, "history"},
      {{"push", "deliver", "--help"}, "push deliver"},
      {{"help", "push", "deliver"}, "push deliver"},
      {{"room", "--help"}, "room"},
      {{"help", "room"}, "room"},
      {{"room", "enter", "-h"}, "room enter"},
      {{"help", "room", "create"}, "room create"},
      {{"room", "show", "r1", "extra", "--help"}, "room show"},
  };
  for (const Case& c : cases) {
    Invocation inv = ParseOk(c.args);
    EXPECT_EQ(inv.command, Command::kHelp) << c.args[0];
    EXPECT_EQ(inv.help_topic, c.topic) << c.args[0];
  }
}

TEST(CallsctlArgsTest, HelpTextOfEveryCommandHasUsageDescriptionAndOptions) {
  for (const char* topic : {"status", "init", "login", "logout", "refresh-token", "watch",
                            "push register", "push unregister", "push unregister-all",
                            "push list", "push deliver", "dial", "accept", "decline", "end",
                            "mute", "unmute", "calls", "history", "room create", "room enter",
                            "room exit", "room show", "room list", "room mute", "room unmute",
                            "room delete", "help"}) {
    std::string help = HelpText(topic);
    EXPECT_THAT(help, StartsWith(absl::StrCat("usage: callsctl ", topic))) << topic;
    EXPECT_GT(help.size(), UsageLine(topic).size() + 20) << topic;
  }
  EXPECT_THAT(HelpText("login"), HasSubstr("--token-file FILE"));
  EXPECT_THAT(HelpText("login"), HasSubstr("--token-stdin"));
  EXPECT_THAT(HelpText("login"), HasSubstr("--session-token"));
  EXPECT_THAT(HelpText("logout"), HasSubstr("--keep-push-tokens"));
  EXPECT_THAT(HelpText("push register"), HasSubstr("--unique"));
  EXPECT_THAT(HelpText("push"), HasSubstr("push unregister-all"));
  EXPECT_THAT(HelpText("push"), HasSubstr("push deliver < PAYLOAD"));
  EXPECT_THAT(HelpText("dial"), HasSubstr("--video"));
  EXPECT_THAT(HelpText("history"), HasSubstr("--limit N"));
  EXPECT_THAT(HelpText("history"), HasSubstr("--next CURSOR"));
  EXPECT_THAT(HelpText("push deliver"), HasSubstr("4096 bytes"));
  EXPECT_THAT(HelpText("push deliver"), HasSubstr("standard input"));
  EXPECT_EQ(UsageLine("dial"), "usage: callsctl dial USER [--video]");
  EXPECT_EQ(UsageLine("accept"), "usage: callsctl accept CALL_ID");
  EXPECT_EQ(UsageLine("history"), "usage: callsctl history [--limit N] [--next CURSOR]");
  EXPECT_EQ(UsageLine("push deliver"), "usage: callsctl push deliver < PAYLOAD");
  EXPECT_THAT(HelpText("room create"), HasSubstr("--type small|large"));
  EXPECT_THAT(HelpText("room enter"), HasSubstr("--muted"));
  EXPECT_EQ(UsageLine("room enter"), "usage: callsctl room enter ROOM_ID [--muted]");
  EXPECT_EQ(UsageLine("room"),
            "usage: callsctl room SUBCOMMAND [ARGS] (SUBCOMMAND: create, enter, exit, show, "
            "list, mute, unmute, delete)");
  const std::string room_help = HelpText("room");
  EXPECT_THAT(room_help, StartsWith("usage: callsctl room SUBCOMMAND [ARGS]\n"));
  for (const char* line : {"  room create [--type small|large]  create a room\n",
                           "  room enter ROOM_ID [--muted]      enter a room\n",
                           "  room delete ROOM_ID               delete a room (owner only)\n"}) {
    EXPECT_THAT(room_help, HasSubstr(line));
  }
  EXPECT_THAT(room_help, HasSubstr("Run 'callsctl help room SUBCOMMAND' for details."));
  EXPECT_THAT(HelpText("push"), HasSubstr("Run 'callsctl help push SUBCOMMAND' for details."));
  EXPECT_THAT(HelpText("push"), Not(HasSubstr("room")));
  const std::string overview = HelpText("");
  for (const char* word : {"status", "init APP_ID", "login USER", "logout", "refresh-token",
                           "watch", "push register", "push list", "push deliver", "dial USER",
                           "accept CALL_ID", "decline CALL_ID", "end CALL_ID", "mute CALL_ID",
                           "unmute CALL_ID", "calls", "history", "room create",
                           "room enter ROOM_ID", "room show ROOM_ID", "room list",
                           "room delete ROOM_ID", "--socket PATH", "--json",
                           "--timeout SECONDS", "Exit status"}) {
    EXPECT_THAT(overview, HasSubstr(word));
  }
  // Wrapped to a terminal.
  for (absl::string_view line : absl::StrSplit(overview, '\n')) EXPECT_LE(line.size(), 79u) << line;
}

struct UsageCase {
  std::vector<std::string> args;
  std::string error;  // Expected "callsctl: ..." first line, exactly.
  std::string usage;  // Expected start of the second line.
};

class CallsctlUsageErrorTest : public ::testing::TestWithParam<UsageCase> {};

TEST_P(CallsctlUsageErrorTest, ExitsWithTwoAndExplains) {
  const UsageCase& c = GetParam();
  testing::FakeDaemon daemon;
  std::istringstream in;
  std::ostringstream out, err;
  CallsctlEnv env;
  env.in = &in;
  env.out = &out;
  env.err = &err;
  env.connect = [&daemon](const client::ClientOptions&)
      -> absl::StatusOr<std::unique_ptr<client::Client>> {
    ++daemon.connects;
    return std::make_unique<testing::FakeClient>(&daemon);
  };
  env.now = [] { return absl::UnixEpoch(); };
  env.zone = absl::UTCTimeZone();

  EXPECT_EQ(RunCallsctl(c.args, env), kExitUsage);
  EXPECT_EQ(daemon.connects, 0) << "a usage error must not contact the daemon";
  EXPECT_EQ(out.str(), "");
  std::vector<std::string> lines = absl::StrSplit(err.str(), '\n');
  ASSERT_GE(lines.size(), 2u) << err.str();
  EXPECT_EQ(lines[0], "callsctl: " + c.error);
  EXPECT_THAT(lines[1], StartsWith(c.usage));
}

INSTANTIATE_TEST_SUITE_P(
    AllErrors, CallsctlUsageErrorTest,
    ::testing::Values(
        UsageCase{{}, "missing COMMAND", "usage: callsctl [--socket PATH]"},
        UsageCase{{"--json"}, "missing COMMAND", "usage: callsctl [--socket PATH]"},
        UsageCase{{"frobnicate"}, "unknown command 'frobnicate'", "usage: callsctl [--socket"},
        UsageCase{{"status", "--bogus"}, "status: unknown option '--bogus'",
                  "usage: callsctl status"},
        UsageCase{{"--bogus=1", "status"}, "status: unknown option '--bogus'",
                  "usage: callsctl status"},
        UsageCase{{"status", "-x"}, "status: unknown option '-x'", "usage: callsctl status"},
        UsageCase{{"status", "--unique"}, "status: unknown option '--unique'",
                  "usage: callsctl status"},
        UsageCase{{"status", "extra"}, "status: unexpected argument 'extra'",
                  "usage: callsctl status"},
        UsageCase{{"status", "--socket"}, "status: option '--socket' needs a value (PATH)",
                  "usage: callsctl status"},
        UsageCase{{"status", "--socket="}, "status: --socket needs a non-empty PATH",
                  "usage: callsctl status"},
        UsageCase{{"status", "--json=yes"}, "status: option '--json' takes no value",
                  "usage: callsctl status"},
        UsageCase{{"status", "--timeout", "0"},
                  "status: --timeout needs a positive number of SECONDS, not '0'",
                  "usage: callsctl status"},
        UsageCase{{"status", "--timeout", "-1"},
                  "status: --timeout needs a positive number of SECONDS, not '-1'",
                  "usage: callsctl status"},
        UsageCase{{"status", "--timeout=soon"},
                  "status: --timeout needs a positive number of SECONDS, not 'soon'",
                  "usage: callsctl status"},
        UsageCase{{"status", "--timeout=inf"},
                  "status: --timeout needs a positive number of SECONDS, not 'inf'",
                  "usage: callsctl status"},
        UsageCase{{"init"}, "init: missing APP_ID", "usage: callsctl init APP_ID"},
        UsageCase{{"init", ""}, "init: APP_ID is empty", "usage: callsctl init APP_ID"},
        UsageCase{{"init", "a", "b"}, "init: unexpected argument 'b'",
                  "usage: callsctl init APP_ID"},
        UsageCase{{"login", "--token-stdin"}, "login: missing USER", "usage: callsctl login USER"},
        UsageCase{{"login", "alice"},
                  "login: missing the token: give --token-file FILE or --token-stdin (a token "
                  "is never accepted as an argument)",
                  "usage: callsctl login USER (--token-file FILE | --token-stdin)"},
        UsageCase{{"login", "alice", "--token-file", "/t", "--token-stdin"},
                  "login: give either --token-file or --token-stdin, not both",
                  "usage: callsctl login"},
        // A token typed as an argument is refused and not echoed.
        UsageCase{{"login", "alice", "s3cr3t-token", "--token-stdin"},
                  "login: unexpected argument (a token is never accepted as an argument: use "
                  "--token-file FILE or --token-stdin)",
                  "usage: callsctl login"},
        UsageCase{{"login", "alice", "--token-file"},
                  "login: option '--token-file' needs a value (FILE)", "usage: callsctl login"},
        UsageCase{{"logout", "--session-token"}, "logout: unknown option '--session-token'",
                  "usage: callsctl logout [--keep-push-tokens]"},
        UsageCase{{"refresh-token"},
                  "refresh-token: missing the token: give --token-file FILE or --token-stdin "
                  "(a token is never accepted as an argument)",
                  "usage: callsctl refresh-token (--token-file FILE | --token-stdin)"},
        UsageCase{{"refresh-token", "tok", "--token-stdin"},
                  "refresh-token: unexpected argument (a token is never accepted as an "
                  "argument: use --token-file FILE or --token-stdin)",
                  "usage: callsctl refresh-token"},
        UsageCase{{"watch", "now"}, "watch: unexpected argument 'now'", "usage: callsctl watch"},
        UsageCase{{"push"},
                  "push: missing SUBCOMMAND (register, unregister, unregister-all, list, deliver)",
                  "usage: callsctl push SUBCOMMAND"},
        UsageCase{{"push", "zap"},
                  "push: unknown subcommand 'zap' (register, unregister, unregister-all, list, "
                  "deliver)",
                  "usage: callsctl push SUBCOMMAND"},
        UsageCase{{"push", "register", "voip"}, "push register: missing URL",
                  "usage: callsctl push register voip|remote URL [--unique]"},
        UsageCase{{"push", "register"}, "push register: missing TYPE",
                  "usage: callsctl push register"},
        UsageCase{{"push", "register", "apns", "https://x"},
                  "push register: TYPE must be voip or remote, not 'apns'",
                  "usage: callsctl push register"},
        UsageCase{{"push", "unregister", "voip"}, "push unregister: missing URL",
                  "usage: callsctl push unregister voip|remote URL"},
        UsageCase{{"push", "unregister", "voip", "https://x", "--unique"},
                  "push unregister: unknown option '--unique'", "usage: callsctl push unregister"},
        UsageCase{{"push", "unregister-all"}, "push unregister-all: missing TYPE",
                  "usage: callsctl push unregister-all voip|remote"},
        UsageCase{{"push", "unregister-all", "fcm"},
                  "push unregister-all: TYPE must be voip or remote, not 'fcm'",
                  "usage: callsctl push unregister-all"},
        UsageCase{{"push", "list", "all"}, "push list: unexpected argument 'all'",
                  "usage: callsctl push list"},
        UsageCase{{"push", "deliver", "{\"v\":1,\"sig\":\"abc\"}"},
                  "push deliver: unexpected argument (the payload is read from standard input: "
                  "callsctl push deliver < FILE)",
                  "usage: callsctl push deliver < PAYLOAD"},
        UsageCase{{"push", "deliver", "--video"}, "push deliver: unknown option '--video'",
                  "usage: callsctl push deliver"},
        UsageCase{{"dial"}, "dial: missing USER", "usage: callsctl dial USER [--video]"},
        UsageCase{{"dial", "--video"}, "dial: missing USER", "usage: callsctl dial USER"},
        UsageCase{{"dial", ""}, "dial: USER is empty", "usage: callsctl dial USER"},
        UsageCase{{"dial", "bob", "carol"}, "dial: unexpected argument 'carol'",
                  "usage: callsctl dial USER"},
        UsageCase{{"dial", "bob", "--video=yes"}, "dial: option '--video' takes no value",
                  "usage: callsctl dial USER"},
        UsageCase{{"dial", "bob", "--unique"}, "dial: unknown option '--unique'",
                  "usage: callsctl dial USER"},
        UsageCase{{"dial", "bob", "--audio"}, "dial: unknown option '--audio'",
                  "usage: callsctl dial USER"},
        UsageCase{{"accept"}, "accept: missing CALL_ID", "usage: callsctl accept CALL_ID"},
        UsageCase{{"accept", ""}, "accept: CALL_ID is empty", "usage: callsctl accept CALL_ID"},
        UsageCase{{"accept", "c1", "c2"}, "accept: unexpected argument 'c2'",
                  "usage: callsctl accept CALL_ID"},
        UsageCase{{"accept", "c1", "--video"}, "accept: unknown option '--video'",
                  "usage: callsctl accept CALL_ID"},
        UsageCase{{"decline"}, "decline: missing CALL_ID", "usage: callsctl decline CALL_ID"},
        UsageCase{{"decline", "c1", "now"}, "decline: unexpected argument 'now'",
                  "usage: callsctl decline CALL_ID"},
        UsageCase{{"end"}, "end: missing CALL_ID", "usage: callsctl end CALL_ID"},
        UsageCase{{"end", "c1", "--limit", "3"}, "end: unknown option '--limit'",
                  "usage: callsctl end CALL_ID"},
        UsageCase{{"mute"}, "mute: missing CALL_ID", "usage: callsctl mute CALL_ID"},
        UsageCase{{"mute", "c1", "on"}, "mute: unexpected argument 'on'",
                  "usage: callsctl mute CALL_ID"},
        UsageCase{{"unmute"}, "unmute: missing CALL_ID", "usage: callsctl unmute CALL_ID"},
        UsageCase{{"unmute", "", "--json"}, "unmute: CALL_ID is empty",
                  "usage: callsctl unmute CALL_ID"},
        UsageCase{{"calls", "all"}, "calls: unexpected argument 'all'", "usage: callsctl calls"},
        UsageCase{{"calls", "--limit", "5"}, "calls: unknown option '--limit'",
                  "usage: callsctl calls"},
        UsageCase{{"history", "today"}, "history: unexpected argument 'today'",
                  "usage: callsctl history [--limit N] [--next CURSOR]"},
        UsageCase{{"history", "--limit", "0"},
                  "history: --limit needs a number of calls from 1 to 100, not '0'",
                  "usage: callsctl history"},
        UsageCase{{"history", "--limit", "101"},
                  "history: --limit needs a number of calls from 1 to 100, not '101'",
                  "usage: callsctl history"},
        UsageCase{{"history", "--limit", "-3"},
                  "history: --limit needs a number of calls from 1 to 100, not '-3'",
                  "usage: callsctl history"},
        UsageCase{{"history", "--limit=ten"},
                  "history: --limit needs a number of calls from 1 to 100, not 'ten'",
                  "usage: callsctl history"},
        UsageCase{{"history", "--limit", "2.5"},
                  "history: --limit needs a number of calls from 1 to 100, not '2.5'",
                  "usage: callsctl history"},
        UsageCase{{"history", "--limit"}, "history: option '--limit' needs a value (N)",
                  "usage: callsctl history"},
        UsageCase{{"history", "--next="}, "history: --next needs a non-empty CURSOR",
                  "usage: callsctl history"},
        UsageCase{{"history", "--next"}, "history: option '--next' needs a value (CURSOR)",
                  "usage: callsctl history"},
        UsageCase{{"history", "--video"}, "history: unknown option '--video'",
                  "usage: callsctl history"},
        UsageCase{{"room"},
                  "room: missing SUBCOMMAND (create, enter, exit, show, list, mute, unmute, "
                  "delete)",
                  "usage: callsctl room SUBCOMMAND"},
        UsageCase{{"room", "join", "r1"},
                  "room: unknown subcommand 'join' (create, enter, exit, show, list, mute, "
                  "unmute, delete)",
                  "usage: callsctl room SUBCOMMAND"},
        UsageCase{{"room", "create", "--type", "medium"},
                  "room create: --type must be small or large, not 'medium'",
                  "usage: callsctl room create [--type small|large]"},
        UsageCase{{"room", "create", "--type"},
                  "room create: option '--type' needs a value (small|large)",
                  "usage: callsctl room create"},
        UsageCase{{"room", "create", "r1"}, "room create: unexpected argument 'r1'",
                  "usage: callsctl room create"},
        UsageCase{{"room", "create", "--muted"}, "room create: unknown option '--muted'",
                  "usage: callsctl room create"},
        UsageCase{{"room", "enter"}, "room enter: missing ROOM_ID",
                  "usage: callsctl room enter ROOM_ID [--muted]"},
        UsageCase{{"room", "enter", ""}, "room enter: ROOM_ID is empty",
                  "usage: callsctl room enter ROOM_ID"},
        UsageCase{{"room", "enter", "r1", "--muted=yes"},
                  "room enter: option '--muted' takes no value", "usage: callsctl room enter"},
        UsageCase{{"room", "enter", "r1", "--type", "large"},
                  "room enter: unknown option '--type'", "usage: callsctl room enter"},
        UsageCase{{"room", "exit"}, "room exit: missing ROOM_ID",
                  "usage: callsctl room exit ROOM_ID"},
        UsageCase{{"room", "show", "r1", "r2"}, "room show: unexpected argument 'r2'",
                  "usage: callsctl room show ROOM_ID"},
        UsageCase{{"room", "list", "all"}, "room list: unexpected argument 'all'",
                  "usage: callsctl room list"},
        UsageCase{{"room", "mute"}, "room mute: missing ROOM_ID",
                  "usage: callsctl room mute ROOM_ID"},
        UsageCase{{"room", "unmute", "r1", "--muted"}, "room unmute: unknown option '--muted'",
                  "usage: callsctl room unmute ROOM_ID"},
        UsageCase{{"room", "delete"}, "room delete: missing ROOM_ID",
                  "usage: callsctl room delete ROOM_ID"},
        UsageCase{{"help", "room", "join"}, "help: no such command 'room join'",
                  "usage: callsctl help [COMMAND]"},
        UsageCase{{"help", "nosuch"}, "help: no such command 'nosuch'",
                  "usage: callsctl help [COMMAND]"},
        UsageCase{{"nosuch", "--help"}, "unknown command 'nosuch'", "usage: callsctl [--socket"}));

}  // namespace
}  // namespace callsd::ctl
