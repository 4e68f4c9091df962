// Crash points (issue 7, point 1): callsd is killed with SIGKILL at every
// step boundary (or an even spread of them) of login, push-token
// registration, logout with pending unregistrations, accept and end, then
// started again without the hook, and the state is checked:
//   - the database opens (callsd starts and passes its integrity check),
//   - the session and the push tokens are exactly the state before or after
//     the operation that was in flight (never a mix),
//   - after recovery the daemon's push tokens (`callsctl --json push list`)
//     and the server's admin listing agree,
//   - no call is left stuck: it ends on both sides within the (short)
//     ringing timeout and reconnect window, or rings and can be accepted and
//     ended.
// The points are chosen by the daemon's own step count (common/fault_point.h,
// CALLSD_TEST_CRASH_AT_STEP), never by time. Each scenario first runs once
// counting its steps S, then once for each chosen N in 1..S.
//
// The scenarios are driven through libcallsclient (fast, in-process RPCs);
// the checks after recovery also go through callsctl.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "callsd/client.h"
#include "callsd/v1/callsd.pb.h"
#include "common/sqlite_db.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "wire/v1/wire.pb.h"

namespace callsd::itest {
namespace {

namespace fs = std::filesystem;
using v1::SessionState;

constexpr char kApp[] = "demo-app";
constexpr char kVoip1[] = "https://push.example.com/up/crash-voip-1";
constexpr char kVoip2[] = "https://push.example.com/up/crash-voip-2";
constexpr char kRemote1[] = "https://push.example.com/up/crash-remote-1";
constexpr char kRemote2[] = "https://push.example.com/up/crash-remote-2";

// Short timers, so that a crashed call or a retried request settles fast.
constexpr int kRingingTimeoutS = 5;  // the daemon's minimum
constexpr int kReconnectWindowS = 1;

std::vector<std::string> DaemonArgs() {
  return {"--set=session.retry_initial_ms = 50\nsession.retry_max_ms = 300",
          "--set=server.request_timeout_ms = 3000",
          absl::StrCat("--set=calls.ringing_timeout_s = ", kRingingTimeoutS),
          absl::StrCat("--set=calls.reconnect_window_s = ", kReconnectWindowS)};
}

std::string TokenName(v1::PushTokenType type, const std::string& token) {
  return absl::StrCat(type == v1::PUSH_TOKEN_TYPE_VOIP ? "voip " : "remote ", token);
}

// A loopback port that was free a moment ago (for the push endpoint, which
// must keep its URL across restarts).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Replaces the files of `to` by those of `from` (a state folder, 0700).
void CopyStateDir(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::create_directories(to);
  fs::permissions(to, fs::perms::owner_all);
  for (const auto& entry : fs::directory_iterator(from)) {
    fs::copy_file(entry.path(), fs::path(to) / entry.path().filename());
  }
}

// --- callsd with the crash hook ----------------------------------------------------

// callsd started by this test rather than by the harness's DaemonProcess: a
// daemon with the hook may die before it ever answers, which is no failure.
class Callsd {
 public:
  Callsd(std::string dir, std::string server_url, std::vector<std::string> args)
      : dir_(std::move(dir)), server_url_(std::move(server_url)), args_(std::move(args)) {
    fs::create_directories(dir_);
  }
  ~Callsd() { Kill(); }

  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/d.sock"; }
  std::string state_dir() const { return dir_ + "/state"; }
  std::string steps_file() const { return dir_ + "/steps"; }
  std::string log_path() const { return dir_ + (hooked_ ? "/hooked.log" : "/plain.log"); }
  std::string Logs() const {
    return absl::StrCat("--- callsd with the hook ---\n", ReadFile(dir_ + "/hooked.log"),
                        "--- callsd restarted ---\n", ReadFile(dir_ + "/plain.log"));
  }

  // Starts callsd. `crash_at` > 0: dies at that step; 0 with `count`: only
  // counts steps. true once it answers GetState; false when it exited first
  // (a failure unless the hook is armed).
  bool Start(int64_t crash_at = 0, bool count = false) {
    Kill();
    hooked_ = crash_at > 0 || count;
    ProcessOptions o;
    o.argv = {Binary("callsd"), "--socket=" + socket(), "--state_dir=" + state_dir(),
              "--server_url=" + server_url_, absl::StrCat("--verbosity=", kLogVerbosity)};
    o.argv.insert(o.argv.end(), args_.begin(), args_.end());
    if (hooked_) {
      std::error_code ec;
      fs::remove(steps_file(), ec);
      o.env["CALLSD_TEST_CRASH_STEPS_FILE"] = steps_file();
      if (crash_at > 0) o.env["CALLSD_TEST_CRASH_AT_STEP"] = absl::StrCat(crash_at);
    }
    std::error_code ec;
    fs::remove(log_path(), ec);
    o.stderr_path = log_path();
    auto p = Process::Start(o);
    if (!p.ok()) {
      ADD_FAILURE() << p.status();
      return false;
    }
    process_ = *std::move(p);
    client_.reset();
    const bool answered = WaitFor(
        [&] {
          if (!process_->Running()) return true;
          if (!client::CheckDaemonSocket(socket()).ok()) return false;
          if (client_ == nullptr) {
            auto c = client::Client::Connect({socket(), absl::Seconds(15)});
            if (!c.ok()) return false;
            client_ = *std::move(c);
          }
          return client_->GetState({}).ok();
        },
        absl::Seconds(30), absl::Milliseconds(10));
    if (answered && process_->Running()) return true;
    if (!hooked_ || process_->Running()) {
      ADD_FAILURE() << "callsd did not start:\n" << ReadFile(log_path());
    }
    return false;
  }

  // Waits up to `within` for the process to end: true when it has.
  bool Died(absl::Duration within = absl::Seconds(10)) {
    if (process_ == nullptr) return true;
    auto code = process_->Wait(within);
    if (!code.ok()) return false;
    exit_code_ = *code;
    client_.reset();
    process_.reset();
    return true;
  }
  // SIGTERM and wait: the exit code (128 + 9 when the hook fired meanwhile).
  int Stop() {
    if (process_ == nullptr) return exit_code_;
    client_.reset();
    auto code = process_->Stop(SIGTERM, absl::Seconds(15));
    EXPECT_TRUE(code.ok()) << "callsd did not stop on SIGTERM:\n" << ReadFile(log_path());
    process_.reset();
    exit_code_ = code.ok() ? *code : -1;
    return exit_code_;
  }
  void Kill() {
    client_.reset();
    if (process_ != nullptr) process_->Kill();
    process_.reset();
  }
  bool running() const { return process_ != nullptr; }
  int exit_code() const { return exit_code_; }
  client::Client& client() { return *client_; }

  // The steps the hooked daemon passed, and the last one's name.
  std::pair<int64_t, std::string> Steps() const {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(absl::StripAsciiWhitespace(ReadFile(steps_file())), absl::MaxSplits(' ', 1));
    int64_t n = 0;
    if (!absl::SimpleAtoi(parts.first, &n)) n = 0;
    return {n, parts.second};
  }

  CommandResult Ctl(const std::vector<std::string>& args) const {
    ProcessOptions o;
    o.argv = {Binary("callsctl"), "--socket=" + socket()};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    return RunCommand(o);
  }

 private:
  std::string dir_;
  std::string server_url_;
  std::vector<std::string> args_;
  bool hooked_ = false;
  int exit_code_ = -1;
  std::unique_ptr<Process> process_;
  std::unique_ptr<client::Client> client_;
};

// Waits for `condition` while the daemon lives: true when it held, false when
// the daemon died (the hook fired). A live daemon that never gets there is a
// failure.
bool WaitOrDied(Callsd& daemon, const std::function<bool()>& condition, const std::string& what,
                absl::Duration timeout = absl::Seconds(15)) {
  bool died = false;
  const bool held = WaitFor(
      [&] {
        if (daemon.Died(absl::ZeroDuration())) {
          died = true;
          return true;
        }
        return condition();
      },
      timeout, absl::Milliseconds(10));
  if (died) return false;
  EXPECT_TRUE(held) << "callsd is alive but never got to: " << what;
  return held;
}

// The outcome of an RPC of the scenario: true when it succeeded; false when
// the daemon died (the hook) — any other failure is a test failure.
bool Acked(Callsd& daemon, const absl::Status& status, const std::string& what) {
  if (status.ok()) return true;
  if (daemon.Died()) return false;
  ADD_FAILURE() << what << " failed while callsd lives: " << status;
  return false;
}

// --- Scenarios ---------------------------------------------------------------------

// One scenario: a before-state, a few operations, and what recovery must show.
// Its steps may be split in two parts at a mark (a step count the counting
// run records at a chosen moment), each run by a test case of its own.
class Scenario {
 public:
  enum class Part { kAll, kToMark, kAfterMark };

  virtual ~Scenario() = default;
  void set_part(Part part) { part_ = part; }
  // Puts the daemon's state folder (and the server) in the state before the
  // operations.
  virtual void Prepare() = 0;
  // Runs the operations on the started, hooked daemon and waits until they
  // took effect, stopping when the daemon dies. Returns how many operations
  // the daemon acknowledged.
  virtual int Run(Callsd& daemon) = 0;
  // On the daemon started again without the hook: the state must be that
  // before or after operation `acked` (the one that was in flight).
  virtual void CheckRecovered(Callsd& daemon, int acked) = 0;
  // The steps to crash at, given the counting run's total (read after it).
  std::pair<int64_t, int64_t> Range(int64_t steps) const {
    if (part_ == Part::kAll) return {1, steps};
    EXPECT_GT(mark_, 0) << "the counting run did not get to the mark";
    if (part_ == Part::kToMark) return {1, mark_};
    return {mark_ + 1, steps};
  }

 protected:
  // Records the mark: the steps `daemon` passed so far.
  void Mark(const Callsd& daemon) { mark_ = daemon.Steps().first; }

 private:
  Part part_ = Part::kAll;
  int64_t mark_ = 0;
};

struct CrashReport {
  int64_t steps = 0;        // S of the counting run
  int points = 0;           // runs in which the hook killed callsd
  int not_reached = 0;      // runs that finished before step N (timing)
  std::map<std::string, int> where;
};

// Runs `scenario` once counting its steps S, then once for each of at most
// `max_points` steps spread evenly over its Range(S), killing callsd there,
// restarting it without the hook and checking it.
CrashReport RunCrashPoints(Scenario& scenario, Callsd& daemon, int max_points) {
  CrashReport report;
  scenario.Prepare();
  if (!daemon.Start(/*crash_at=*/0, /*count=*/true)) return report;
  const int acked = scenario.Run(daemon);
  EXPECT_EQ(daemon.Stop(), 0);
  report.steps = daemon.Steps().first;
  EXPECT_GT(report.steps, 0) << "the hook counted no step";
  if (::testing::Test::HasFailure()) return report;
  if (!daemon.Start()) return report;
  scenario.CheckRecovered(daemon, acked);
  daemon.Stop();
  if (::testing::Test::HasFailure()) return report;

  auto [first, last] = scenario.Range(report.steps);
  first = std::max<int64_t>(first, 1);
  last = std::min(last, report.steps);
  std::set<int64_t> points;
  const int64_t span = last - first + 1;
  if (span <= max_points || max_points < 2) {
    for (int64_t n = first; n <= last; ++n) points.insert(n);
  } else {
    for (int i = 0; i < max_points; ++i) points.insert(first + i * (span - 1) / (max_points - 1));
  }
  for (int64_t n : points) {
    scenario.Prepare();
    int ops = 0;
    if (daemon.Start(n)) ops = scenario.Run(daemon);
    if (daemon.running()) daemon.Stop();  // the last steps are those of a clean stop
    const auto [reached, where] = daemon.Steps();
    if (reached == n) {
      EXPECT_EQ(daemon.exit_code(), 128 + SIGKILL) << "step " << n;
      ++report.points;
      ++report.where[where];
    } else {
      ++report.not_reached;  // fewer steps this time (e.g. one retry less)
    }
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "at step " << n << " (" << where << ")\n" << daemon.Logs();
      return report;
    }
    if (!daemon.Start()) {
      ADD_FAILURE() << "callsd does not start after a crash at step " << n << " (" << where
                    << ")\n"
                    << daemon.Logs();
      return report;
    }
    scenario.CheckRecovered(daemon, ops);
    EXPECT_EQ(daemon.Stop(), 0) << "the restarted callsd did not stop cleanly";
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "after a crash at step " << n << " (" << where << "), " << ops
                    << " operation(s) acknowledged\n"
                    << daemon.Logs();
      return report;
    }
  }
  return report;
}

void Report(const CrashReport& report, const std::string& name, absl::Duration took) {
  std::vector<std::string> kinds;
  for (const auto& [where, count] : report.where) kinds.push_back(absl::StrCat(where, "=", count));
  std::printf(
      "crash points run (%s): %d, of %lld steps in the scenario (%d not reached), in %s; "
      "killed at: %s\n",
      name.c_str(), report.points, static_cast<long long>(report.steps), report.not_reached,
      absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(100))).c_str(),
      absl::StrJoin(kinds, " ").c_str());
  ::testing::Test::RecordProperty("crash_points", report.points);
  ::testing::Test::RecordProperty("scenario_steps", static_cast<int>(report.steps));
}

// --- Session and push-token scenarios -----------------------------------------------

// What the daemon holds and what the server holds for the user.
struct SessionView {
  SessionState session = v1::SESSION_STATE_UNSPECIFIED;
  std::string user;
  std::vector<std::string> tokens;      // the daemon's, any server state
  std::vector<std::string> registered;  // the daemon's REGISTERED ones
  int pending_unregistrations = 0;
  std::vector<std::string> server;      // the server's listing

  // Nothing left to retry: authenticated with every token registered and
  // the server agreeing, or not logged in and the server holding nothing.
  bool Settled() const {
    if (pending_unregistrations != 0 || session == v1::SESSION_STATE_AUTHENTICATING) return false;
    if (session == v1::SESSION_STATE_AUTHENTICATED) {
      return registered == tokens && server == tokens;
    }
    return server.empty();
  }
  std::string ToString() const {
    return absl::StrCat(v1::SessionState_Name(session), " user=\"", user, "\" tokens=[",
                        absl::StrJoin(tokens, ", "), "] registered=[",
                        absl::StrJoin(registered, ", "), "] pending_unregistrations=",
                        pending_unregistrations, " server=[", absl::StrJoin(server, ", "), "]");
  }
};

struct Expected {
  SessionState session;
  std::string user;
  std::vector<std::string> tokens;  // sorted
};

class SessionScenario : public Scenario {
 public:
  SessionScenario(ServerProcess& server, Callsd& daemon) : server_(server), daemon_(daemon) {}

 protected:
  // The server's push tokens of alice, sorted, as "type token".
  std::vector<std::string> ServerTokens() {
    auto [code, body] = server_.Admin("GET", "/v1/users/alice/push");
    EXPECT_EQ(code, 200) << body;
    auto list = ParseJson<wire::v1::PushTokenList>(body);
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<std::string> out;
    if (list.ok()) {
      for (const auto& t : list->tokens()) out.push_back(t.type() + " " + t.token());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Empties alice's push tokens on the server, through a session of the
  // test's own.
  void WipeServerTokens() {
    if (session_key_.empty()) {
      wire::v1::AuthRequest auth;
      auth.set_user_id("alice");
      auth.set_access_token(server_.token("alice"));
      auto [code, body] = server_.Client("POST", "/v1/auth", {{"App-Id", kApp}}, ToJson(auth));
      ASSERT_EQ(code, 200) << "POST /v1/auth";
      auto answer = ParseJson<wire::v1::AuthResponse>(body);
      ASSERT_TRUE(answer.ok());
      session_key_ = answer->session_key();
    }
    for (const char* type : {"voip", "remote"}) {
      auto [code, body] = server_.Client("DELETE", absl::StrCat("/v1/push/", type),
                                         {{"App-Id", kApp}, {"Session-Key", session_key_}});
      ASSERT_EQ(code, 200) << body;
    }
    ASSERT_TRUE(ServerTokens().empty());
  }

  absl::StatusOr<SessionView> View(Callsd& daemon) {
    SessionView view;
    auto state = daemon.client().GetState({});
    if (!state.ok()) return state.status();
    view.session = state->session_state();
    view.user = state->user().user_id();
    auto list = daemon.client().ListPushTokens({});
    if (!list.ok()) return list.status();
    for (const v1::PushToken& t : list->tokens()) {
      view.tokens.push_back(TokenName(t.type(), t.token()));
      if (t.server_state() == v1::PUSH_TOKEN_SERVER_STATE_REGISTERED) {
        view.registered.push_back(view.tokens.back());
      }
    }
    std::sort(view.tokens.begin(), view.tokens.end());
    std::sort(view.registered.begin(), view.registered.end());
    view.pending_unregistrations = list->pending_unregistrations();
    view.server = ServerTokens();
    return view;
  }

  // Waits until the restarted daemon settled, then checks that it holds one
  // of `allowed` and that callsctl's listing agrees with the server's.
  void ExpectOneOf(Callsd& daemon, const std::vector<Expected>& allowed) {
    SessionView view;
    const bool settled = WaitFor(
        [&] {
          auto v = View(daemon);
          if (!v.ok()) return false;
          view = *std::move(v);
          return view.Settled();
        },
        absl::Seconds(15), absl::Milliseconds(20));
    ASSERT_TRUE(settled) << "never settled: " << view.ToString();
    bool matched = false;
    std::vector<std::string> wanted;
    for (const Expected& e : allowed) {
      matched |= view.session == e.session && view.user == e.user && view.tokens == e.tokens;
      wanted.push_back(absl::StrCat(v1::SessionState_Name(e.session), " user=\"", e.user,
                                    "\" tokens=[", absl::StrJoin(e.tokens, ", "), "]"));
    }
    EXPECT_TRUE(matched) << "a state that is neither before nor after the operation: "
                         << view.ToString() << "\nallowed: " << absl::StrJoin(wanted, " | ");

    // What an operator sees: callsctl's listing, against the server's.
    CommandResult list = daemon.Ctl({"--json", "push", "list"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    auto parsed = ParseJson<v1::ListPushTokensResponse>(list.out);
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << list.out;
    std::vector<std::string> listed;
    for (const v1::PushToken& t : parsed->tokens()) {
      if (t.server_state() == v1::PUSH_TOKEN_SERVER_STATE_REGISTERED) {
        listed.push_back(TokenName(t.type(), t.token()));
      }
    }
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(listed, ServerTokens()) << "callsctl push list and the server disagree";
    EXPECT_EQ(parsed->pending_unregistrations(), 0);

    // The file itself, read as a second SQLite reader, is intact.
    SqliteDb::Options o;
    o.create = false;
    o.check_integrity = true;
    auto db = SqliteDb::Open(daemon.state_dir() + "/callsd.db", o);
    EXPECT_TRUE(db.ok()) << db.status();
  }

  ServerProcess& server_;
  Callsd& daemon_;
  std::string session_key_;
};

absl::Status Register(Callsd& d, v1::PushTokenType type, const std::string& token) {
  v1::RegisterPushTokenRequest r;
  r.set_type(type);
  r.set_token(token);
  return d.client().RegisterPushToken(r).status();
}

// From a fresh state folder: init, login, register three tokens.
class LoginScenario : public SessionScenario {
 public:
  using SessionScenario::SessionScenario;

  void Prepare() override {
    std::error_code ec;
    fs::remove_all(daemon_.state_dir(), ec);
    WipeServerTokens();
  }

  int Run(Callsd& d) override {
    v1::InitRequest init;
    init.set_app_id(kApp);
    if (!Acked(d, d.client().Init(init).status(), "Init")) return 0;
    v1::AuthenticateRequest auth;
    auth.set_user_id("alice");
    auth.set_token_kind(v1::TOKEN_KIND_ACCESS_TOKEN);
    auth.set_token(server_.token("alice"));
    if (!Acked(d, d.client().Authenticate(auth).status(), "Authenticate")) return 1;
    if (!Acked(d, Register(d, v1::PUSH_TOKEN_TYPE_VOIP, kVoip1), "RegisterPushToken")) return 2;
    if (!Acked(d, Register(d, v1::PUSH_TOKEN_TYPE_REMOTE, kRemote1), "RegisterPushToken")) {
      return 3;
    }
    if (!Acked(d, Register(d, v1::PUSH_TOKEN_TYPE_VOIP, kVoip2), "RegisterPushToken")) return 4;
    return 5;
  }

  void CheckRecovered(Callsd& d, int acked) override {
    const std::vector<Expected> states = {
        {v1::SESSION_STATE_NOT_INITIALIZED, "", {}},
        {v1::SESSION_STATE_LOGGED_OUT, "", {}},
        {v1::SESSION_STATE_AUTHENTICATED, "alice", {}},
        {v1::SESSION_STATE_AUTHENTICATED, "alice", {TokenName(v1::PUSH_TOKEN_TYPE_VOIP, kVoip1)}},
        {v1::SESSION_STATE_AUTHENTICATED,
         "alice",
         {TokenName(v1::PUSH_TOKEN_TYPE_REMOTE, kRemote1),
          TokenName(v1::PUSH_TOKEN_TYPE_VOIP, kVoip1)}},
        {v1::SESSION_STATE_AUTHENTICATED,
         "alice",
         {TokenName(v1::PUSH_TOKEN_TYPE_REMOTE, kRemote1),
          TokenName(v1::PUSH_TOKEN_TYPE_VOIP, kVoip1),
          TokenName(v1::PUSH_TOKEN_TYPE_VOIP, kVoip2)}},
    };
    std::vector<Expected> allowed = {states[acked]};
    if (acked + 1 < static_cast<int>(states.size())) allowed.push_back(states[acked + 1]);
    ExpectOneOf(d, allowed);
  }
};

// A state folder made once by a daemon without the hook, copied for each run.
class Template {
 public:
  explicit Template(std::string dir) : dir_(std::move(dir)) {}
  void Save(const Callsd& from) { CopyStateDir(from.state_dir(), dir_); }
  void RestoreTo(const Callsd& to) const { CopyStateDir(dir_, to.state_dir()); }

 private:
  std::string dir_;
};

// Logged in: register three tokens, unregister one, unregister all of a
// type, register the first again.
class PushScenario : public SessionScenario {
 public:
  PushScenario(ServerProcess& server, Callsd& daemon, const std::string& template_dir)
      : SessionScenario(server, daemon), template_(template_dir) {
    WipeServerTokens();
    std::error_code ec;
    fs::remove_all(daemon_.state_dir(), ec);
    if (!daemon_.Start()) return;
    v1::InitRequest init;
    init.set_app_id(kApp);
    EXPECT_TRUE(daemon_.client().Init(init).ok());
    v1::AuthenticateRequest auth;
    auth.set_user_id("alice");
    auth.set_token_kind(v1::TOKEN_KIND_ACCESS_TOKEN);
    auth.set_token(server_.token("alice"));
    EXPECT_TRUE(daemon_.client().Authenticate(auth).ok());
    EXPECT_EQ(daemon_.Stop(), 0);
    template_.Save(daemon_);
  }

  void Prepare() override {
    WipeServerTokens();
    template_.RestoreTo(daemon_);
  }

  int Run(Callsd& d) override {
    // The daemon logs in again by itself at start: wait for it.
    if (!WaitOrDied(d, [&] { return Authenticated(d); }, "authenticated after start")) return 0;
    if (!Acked(d, Register(d, v1::PUSH_TOKEN_TYPE_VOIP, kVoip1), "register voip 1")) return 0;
    if (!Acked(d, Register(d, v1::PUSH_TOKEN_TYPE_REMOTE, kRemote1), "register remote")) return 1;
    if (!Acked(d, Register(d, v1::PUSH_TOKEN_TYPE_VOIP, kVoip2), "register voip 2")) return 2;
    Mark(d);
    v1::UnregisterPushTokenRequest one;
    one.set_type(v1::PUSH_TOKEN_TYPE_VOIP);
    one.set_token(kVoip1);
    if (!Acked(d, d.client().UnregisterPushToken(one).status(), "unregister voip 1")) return 3;
    v1::UnregisterAllPushTokensRequest all;
    all.set_type(v1::PUSH_TOKEN_TYPE_REMOTE);
    if (!Acked(d, d.client().UnregisterAllPushTokens(all).status(), "unregister all remote")) {
      return 4;
    }
    if (!Acked(d, Register(d, v1::PUSH_TOKEN_TYPE_VOIP, kVoip1), "register voip 1 again")) {
      return 5;
    }
    return 6;
  }

  void CheckRecovered(Callsd& d, int acked) override {
    const std::string voip1 = TokenName(v1::PUSH_TOKEN_TYPE_VOIP, kVoip1);
    const std::string voip2 = TokenName(v1::PUSH_TOKEN_TYPE_VOIP, kVoip2);
    const std::string remote1 = TokenName(v1::PUSH_TOKEN_TYPE_REMOTE, kRemote1);
    const std::vector<std::vector<std::string>> tokens = {
        {},     {voip1}, {remote1, voip1}, {remote1, voip1, voip2}, {remote1, voip2},
        {voip2}, {voip1, voip2}};
    std::vector<Expected> allowed = {{v1::SESSION_STATE_AUTHENTICATED, "alice", tokens[acked]}};
    if (acked + 1 < static_cast<int>(tokens.size())) {
      allowed.push_back({v1::SESSION_STATE_AUTHENTICATED, "alice", tokens[acked + 1]});
    }
    ExpectOneOf(d, allowed);
  }

 protected:
  static bool Authenticated(Callsd& d) {
    auto state = d.client().GetState({});
    return state.ok() && state->session_state() == v1::SESSION_STATE_AUTHENTICATED;
  }

  Template template_;
};

// Logged in with four registered tokens; the server goes away; logout
// (unregistrations stay pending); the server comes back; they go through.
class LogoutScenario : public PushScenario {
 public:
  LogoutScenario(ServerProcess& server, Callsd& daemon, const std::string& template_dir)
      : PushScenario(server, daemon, template_dir) {
    // The template also holds four registered tokens.
    template_.RestoreTo(daemon_);
    if (!daemon_.Start()) return;
    EXPECT_TRUE(WaitOrDied(daemon_, [&] { return Authenticated(daemon_); }, "authenticated"));
    EXPECT_TRUE(Register(daemon_, v1::PUSH_TOKEN_TYPE_VOIP, kVoip1).ok());
    EXPECT_TRUE(Register(daemon_, v1::PUSH_TOKEN_TYPE_VOIP, kVoip2).ok());
    EXPECT_TRUE(Register(daemon_, v1::PUSH_TOKEN_TYPE_REMOTE, kRemote1).ok());
    EXPECT_TRUE(Register(daemon_, v1::PUSH_TOKEN_TYPE_REMOTE, kRemote2).ok());
    EXPECT_EQ(daemon_.Stop(), 0);
    template_.Save(daemon_);
  }

  void Prepare() override {
    if (!server_.running()) {
      ASSERT_TRUE(server_.Start());
    }
    PushScenario::Prepare();
  }

  int Run(Callsd& d) override {
    // At start the daemon logs in again and registers its tokens again.
    if (!WaitOrDied(d, [&] { return Registered(d) == 4 && ServerTokens().size() == 4; },
                    "four tokens registered after start")) {
      return 0;
    }
    server_.Stop();
    const bool acked = Acked(d, d.client().Deauthenticate({}).status(), "Deauthenticate");
    if (acked) Mark(d);
    EXPECT_TRUE(server_.Start());
    if (!acked) return 0;
    WaitOrDied(
        d,
        [&] {
          auto list = d.client().ListPushTokens({});
          return list.ok() && list->pending_unregistrations() == 0;
        },
        "the unregistrations confirmed once the server is back");
    return 1;
  }

  void CheckRecovered(Callsd& d, int acked) override {
    const std::vector<std::string> all = {TokenName(v1::PUSH_TOKEN_TYPE_REMOTE, kRemote1),
                                          TokenName(v1::PUSH_TOKEN_TYPE_REMOTE, kRemote2),
                                          TokenName(v1::PUSH_TOKEN_TYPE_VOIP, kVoip1),
                                          TokenName(v1::PUSH_TOKEN_TYPE_VOIP, kVoip2)};
    const Expected before = {v1::SESSION_STATE_AUTHENTICATED, "alice", all};
    // Logged out, the tokens kept as this device's (for the next login).
    const Expected after = {v1::SESSION_STATE_LOGGED_OUT, "", all};
    if (acked == 0) {
      ExpectOneOf(d, {before, after});
    } else {
      ExpectOneOf(d, {after});
    }
  }

 private:
  static int Registered(Callsd& d) {
    auto list = d.client().ListPushTokens({});
    if (!list.ok()) return -1;
    return static_cast<int>(std::count_if(
        list->tokens().begin(), list->tokens().end(), [](const v1::PushToken& t) {
          return t.server_state() == v1::PUSH_TOKEN_SERVER_STATE_REGISTERED;
        }));
  }
};

// --- Call scenario ------------------------------------------------------------------

v1::Call FindCall(client::Client& c, const std::string& call_id) {
  auto calls = c.ListCalls({});
  if (calls.ok()) {
    for (const v1::Call& call : calls->calls()) {
      if (call.call_id() == call_id) return call;
    }
  }
  return v1::Call();  // CALL_STATE_UNSPECIFIED: not (yet) known
}

// alice (no hook) calls bob (the hooked daemon) twice: bob rings, accepts,
// the call connects, bob ends it; then the same, alice ending it. The mark
// is the first call ended.
class CallScenario : public Scenario {
 public:
  CallScenario(ServerProcess& server, Device& alice, Callsd& bob, const std::string& template_dir)
      : server_(server), bob_(bob), template_(template_dir) {
    auto c = client::Client::Connect({alice.daemon().socket(), absl::Seconds(15)});
    EXPECT_TRUE(c.ok()) << c.status();
    if (c.ok()) alice_ = *std::move(c);
    if (!bob_.Start()) return;
    v1::InitRequest init;
    init.set_app_id(kApp);
    EXPECT_TRUE(bob_.client().Init(init).ok());
    v1::AuthenticateRequest auth;
    auth.set_user_id("bob");
    auth.set_token_kind(v1::TOKEN_KIND_ACCESS_TOKEN);
    auth.set_token(server_.token("bob"));
    EXPECT_TRUE(bob_.client().Authenticate(auth).ok());
    auto state = bob_.client().GetState({});
    EXPECT_TRUE(state.ok()) << state.status();
    if (state.ok()) endpoint_ = state->push_endpoint_url();
    EXPECT_FALSE(endpoint_.empty()) << "bob's built-in push endpoint is off";
    EXPECT_TRUE(Register(bob_, v1::PUSH_TOKEN_TYPE_VOIP, endpoint_).ok());
    EXPECT_EQ(bob_.Stop(), 0);
    template_.Save(bob_);
  }

  void Prepare() override {
    template_.RestoreTo(bob_);
    call_ids_.clear();
  }

  int Run(Callsd& d) override {
    if (!WaitOrDied(d, [&] { return BobReady(d); }, "logged in with its endpoint registered")) {
      return 0;
    }
    int acked = 0;
    if (!Call(d, /*bob_ends=*/true, &acked)) return acked;
    Mark(d);
    Call(d, /*bob_ends=*/false, &acked);
    return acked;
  }

  void CheckRecovered(Callsd& d, int acked) override {
    // Logged in again, its one token registered, the server agreeing.
    ASSERT_TRUE(WaitFor([&] { return BobReady(d); }, absl::Seconds(15)))
        << "bob's daemon did not log in again with its token registered";
    CommandResult list = d.Ctl({"--json", "push", "list"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    auto parsed = ParseJson<v1::ListPushTokensResponse>(list.out);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->tokens_size(), 1) << list.out;
    EXPECT_EQ(parsed->tokens(0).server_state(), v1::PUSH_TOKEN_SERVER_STATE_REGISTERED);
    EXPECT_EQ(ServerTokens(), std::vector<std::string>{"voip " + endpoint_});
    for (const std::string& id : call_ids_) ExpectNotStuck(d, id, acked);
  }

 private:
  // alice dials, bob accepts, the call connects, one side ends it. false
  // when bob's daemon died on the way.
  bool Call(Callsd& d, bool bob_ends, int* acked) {
    v1::DialRequest dial;
    dial.set_callee_id("bob");
    auto dialed = alice_->Dial(dial);
    EXPECT_TRUE(dialed.ok()) << dialed.status();
    if (!dialed.ok()) return false;
    const std::string id = dialed->call().call_id();
    call_ids_.push_back(id);
    if (!WaitOrDied(d, [&] { return FindCall(d.client(), id).state() == v1::CALL_STATE_RINGING; },
                    "ringing")) {
      return false;
    }
    v1::AcceptRequest accept;
    accept.set_call_id(id);
    if (!Acked(d, d.client().Accept(accept).status(), "Accept")) return false;
    ++*acked;
    if (!WaitOrDied(
            d, [&] { return FindCall(d.client(), id).state() == v1::CALL_STATE_CONNECTED; },
            "connected")) {
      return false;
    }
    v1::EndRequest end;
    end.set_call_id(id);
    if (bob_ends) {
      if (!Acked(d, d.client().End(end).status(), "End")) return false;
      ++*acked;
    } else {
      EXPECT_TRUE(alice_->End(end).ok()) << "alice's End";
    }
    return WaitOrDied(
        d,
        [&] {
          return FindCall(*alice_, id).state() == v1::CALL_STATE_ENDED &&
                 FindCall(d.client(), id).state() == v1::CALL_STATE_ENDED;
        },
        "the call ended on both sides");
  }

  // The call ends on both sides by itself (timeouts), or it still rings
  // here and can be accepted and ended.
  void ExpectNotStuck(Callsd& d, const std::string& id, int acked) {
    bool accepting = false, ending = false;
    v1::Call here, there;
    const bool settled = WaitFor(
        [&] {
          here = FindCall(d.client(), id);
          there = FindCall(*alice_, id);
          if (here.state() == v1::CALL_STATE_RINGING && !accepting) {
            accepting = true;
            v1::AcceptRequest accept;
            accept.set_call_id(id);
            (void)d.client().Accept(accept);  // may lose against a timeout
          }
          if (here.state() == v1::CALL_STATE_CONNECTED && !ending) {
            ending = true;
            v1::EndRequest end;
            end.set_call_id(id);
            EXPECT_TRUE(d.client().End(end).ok()) << "a connected call cannot be ended";
          }
          const bool here_done = here.state() == v1::CALL_STATE_UNSPECIFIED ||
                                 here.state() == v1::CALL_STATE_ENDED;
          return here_done && there.state() == v1::CALL_STATE_ENDED;
        },
        absl::Seconds(kRingingTimeoutS + kReconnectWindowS + 10), absl::Milliseconds(20));
    EXPECT_TRUE(settled) << "a stuck call (" << acked << " operation(s) acknowledged): bob "
                         << v1::CallState_Name(here.state()) << ", alice "
                         << v1::CallState_Name(there.state());
    if (here.state() == v1::CALL_STATE_ENDED) {
      EXPECT_NE(here.end_result(), v1::END_RESULT_UNSPECIFIED);
    }
  }

  std::vector<std::string> ServerTokens() {
    auto [code, body] = server_.Admin("GET", "/v1/users/bob/push");
    auto list = ParseJson<wire::v1::PushTokenList>(body);
    std::vector<std::string> out;
    if (code != 200 || !list.ok()) return {"(no answer: " + body + ")"};
    for (const auto& t : list->tokens()) out.push_back(t.type() + " " + t.token());
    return out;
  }

  bool BobReady(Callsd& d) {
    auto state = d.client().GetState({});
    return state.ok() && state->session_state() == v1::SESSION_STATE_AUTHENTICATED &&
           state->push_tokens_size() == 1 &&
           state->push_tokens(0).server_state() == v1::PUSH_TOKEN_SERVER_STATE_REGISTERED &&
           ServerTokens().size() == 1;
  }

  ServerProcess& server_;
  Callsd& bob_;
  Template template_;
  std::unique_ptr<client::Client> alice_;
  std::string endpoint_;
  std::vector<std::string> call_ids_;  // dialed in this run
};

// --- The tests ----------------------------------------------------------------------

// How many points a test case runs at most (spread evenly over its steps
// if it has more). All the scenarios' steps come to well over 200 in the
// plain build; sanitizer builds (each start several times slower) run an
// even sample of them.
#ifdef CALLSD_SANITIZED_BUILD
constexpr int kMaxPointsPerCase = 8;
#else
constexpr int kMaxPointsPerCase = 50;
#endif

class CrashPointsTest : public ::testing::Test {
 protected:
  CrashPointsTest()
      : server_(dir_.path(), {absl::StrCat("--ringing_timeout_s=", kRingingTimeoutS),
                              absl::StrCat("--reconnect_window_s=", kReconnectWindowS)}),
        daemon_(dir_ / "d", server_.url(), DaemonArgs()) {}

  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "--- calls-server log (tail) ---\n%s\n",
                   Tail(ReadFile(server_.log_path())).c_str());
    }
  }
  static std::string Tail(const std::string& text) {
    return text.size() > 20000 ? text.substr(text.size() - 20000) : text;
  }

  void Run(Scenario& scenario, Scenario::Part part, Callsd& daemon, const std::string& name) {
    ASSERT_FALSE(HasFailure()) << "the scenario's setup failed";
    scenario.set_part(part);
    const absl::Time start = absl::Now();
    const CrashReport report = RunCrashPoints(scenario, daemon, kMaxPointsPerCase);
    Report(report, name, absl::Now() - start);
    EXPECT_GT(report.points, 0);
  }

  TempDir dir_;
  ServerProcess server_;
  Callsd daemon_;
};

// Init, login and the first two registrations, from a fresh state folder.
TEST_F(CrashPointsTest, LoginAndFirstRegistrations) {
  LoginScenario scenario(server_, daemon_);
  Run(scenario, Scenario::Part::kAll, daemon_, "login");
}

// Logged in: start (logging in again), register three tokens.
TEST_F(CrashPointsTest, PushTokenRegistration) {
  PushScenario scenario(server_, daemon_, dir_ / "template");
  Run(scenario, Scenario::Part::kToMark, daemon_, "push registration");
}

// Then unregister one token, all of a type, and register one again.
TEST_F(CrashPointsTest, PushTokenUnregistration) {
  PushScenario scenario(server_, daemon_, dir_ / "template");
  Run(scenario, Scenario::Part::kAfterMark, daemon_, "push unregistration");
}

// Four tokens registered again at start; the server goes away; logout.
TEST_F(CrashPointsTest, LogoutWhileTheServerIsDown) {
  LogoutScenario scenario(server_, daemon_, dir_ / "template");
  Run(scenario, Scenario::Part::kToMark, daemon_, "logout");
}

// Then the server comes back and the pending unregistrations go through.
TEST_F(CrashPointsTest, PendingUnregistrationsAfterLogout) {
  LogoutScenario scenario(server_, daemon_, dir_ / "template");
  Run(scenario, Scenario::Part::kAfterMark, daemon_, "pending unregistrations");
}

class CrashPointsCallTest : public CrashPointsTest {
 protected:
  CrashPointsCallTest()
      : alice_(dir_ / "a", server_, "alice", server_.token_file("alice"), DaemonArgs()),
        bob_(dir_ / "b", server_.url(), WithEndpoint(DaemonArgs())) {}

  static std::vector<std::string> WithEndpoint(std::vector<std::string> args) {
    args.push_back(absl::StrCat("--set=push.endpoint = \"127.0.0.1:", FreePort(), "\""));
    return args;
  }

  Device alice_;
  Callsd bob_;
};

// bob's start, the ring, accept, connected, bob ends.
TEST_F(CrashPointsCallTest, AcceptAndEnd) {
  CallScenario scenario(server_, alice_, bob_, dir_ / "template");
  Run(scenario, Scenario::Part::kToMark, bob_, "accept and end");
}

// A second call: ring, accept, connected, alice ends; bob's stop.
TEST_F(CrashPointsCallTest, AcceptAndEndedByThePeer) {
  CallScenario scenario(server_, alice_, bob_, dir_ / "template");
  Run(scenario, Scenario::Part::kAfterMark, bob_, "accept and ended by the peer");
}

}  // namespace
}  // namespace callsd::itest
