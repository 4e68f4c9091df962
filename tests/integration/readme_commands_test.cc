// The README's first command, scripts/run, as a new user meets it: it
// starts calls-server and callsd, prints what to type next, the printed
// commands work, and Ctrl-C stops both cleanly.
#include <signal.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace callsd::itest {
namespace {

using ::testing::HasSubstr;

TEST(ReadmeCommandsTest, ScriptsRunStartsBothAndCtrlCStopsThem) {
  TempDir dir;
  const std::string run_dir = dir / "run";
  ProcessOptions o;
  o.argv = {std::string(CALLSD_SOURCE_DIR) + "/scripts/run"};
  o.env = {{"CALLSD_RUN_DIR", run_dir},
           {"CALLSD_SKIP_BUILD", "1"},
           {"CALLSD_BUILD_DIR", CALLSD_BUILD_DIR}};
  o.stdout_path = dir / "out";
  o.stderr_path = dir / "err";
  auto script = Process::Start(o);
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(ReadFile(dir / "out"), "Press Ctrl-C"); },
                      absl::Seconds(30)))
      << ReadFile(dir / "out") << ReadFile(dir / "err");
  const std::string out = ReadFile(dir / "out");
  EXPECT_THAT(out, HasSubstr("export CALLSD_SOCKET=" + run_dir + "/callsd.sock"));
  EXPECT_THAT(out, HasSubstr("callsctl init demo-app"));

  // The commands it prints, with the socket from the environment.
  auto ctl = [&](std::vector<std::string> args) {
    ProcessOptions c;
    c.argv = {Binary("callsctl")};
    c.argv.insert(c.argv.end(), args.begin(), args.end());
    c.env = {{"CALLSD_SOCKET", run_dir + "/callsd.sock"}};
    return RunCommand(c);
  };
  EXPECT_THAT(ctl({"status"}).out, HasSubstr("NOT_INITIALIZED"));
  CommandResult not_init = ctl({"login", "alice", "--token-file", run_dir + "/demo/alice.token"});
  EXPECT_EQ(not_init.exit_code, 1);
  EXPECT_THAT(not_init.err, HasSubstr("1800302"));
  EXPECT_EQ(ctl({"init", "demo-app"}).exit_code, 0);
  CommandResult login = ctl({"login", "alice", "--token-file", run_dir + "/demo/alice.token"});
  EXPECT_EQ(login.exit_code, 0) << login.err;
  EXPECT_THAT(login.out, HasSubstr("AUTHENTICATED"));
  EXPECT_EQ(ctl({"logout"}).exit_code, 0);

  ::kill((*script)->pid(), SIGINT);
  auto code = (*script)->Wait(absl::Seconds(20));
  ASSERT_TRUE(code.ok()) << "scripts/run did not stop on Ctrl-C";
  EXPECT_THAT(ReadFile(dir / "out"), HasSubstr("stopped."));
  struct stat st {};
  EXPECT_NE(stat((run_dir + "/callsd.sock").c_str(), &st), 0) << "callsd stopped and cleaned up";
  EXPECT_THAT(ReadFile(run_dir + "/logs/callsd.log"), HasSubstr("stopped"));
  EXPECT_THAT(ReadFile(run_dir + "/logs/calls-server.log"), HasSubstr("calls-server stopped"));
  // State is kept for the next run.
  EXPECT_EQ(stat((run_dir + "/state/callsd.db").c_str(), &st), 0);
}

}  // namespace
}  // namespace callsd::itest
