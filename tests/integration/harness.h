// Integration harness: starts the real calls-server, callsd and callsctl as
// processes in a temporary folder (short paths under /tmp), on ephemeral
// ports, and waits on conditions with deadlines (never a bare sleep).
#ifndef CALLSD_TESTS_INTEGRATION_HARNESS_H_
#define CALLSD_TESTS_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace callsd::itest {

// Path of a built program: "callsd", "calls-server" or "callsctl".
std::string Binary(const std::string& name);

// A fresh folder under /tmp (short: Unix socket paths are limited), removed
// at destruction unless CALLSD_KEEP_TEST_DIRS is set. Before removing it,
// the destructor fails the test if a log file in it holds a secret (see
// CheckLogsForSecrets).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `condition` every `poll` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(10),
             absl::Duration poll = absl::Milliseconds(5));

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0600);

struct ProcessOptions {
  std::vector<std::string> argv;
  // Added to (or replacing in) the test's environment.
  std::map<std::string, std::string> env;
  std::string stdout_path;  // /dev/null when empty
  std::string stderr_path;  // /dev/null when empty
  std::string stdin_path;   // /dev/null when empty
  // Run as this uid/gid with no supplementary groups but `groups` (via
  // setpriv; needs root).
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::vector<gid_t> groups;
};

class Process {
 public:
  static absl::StatusOr<std::unique_ptr<Process>> Start(ProcessOptions options);
  // SIGKILLs the process if it still runs.
  ~Process();

  pid_t pid() const { return pid_; }
  bool Running();
  // Waits for the exit: the exit code, or 128 + signal. DEADLINE_EXCEEDED
  // when it is still running after `timeout`.
  absl::StatusOr<int> Wait(absl::Duration timeout = absl::Seconds(10));
  // Sends `signal` and waits.
  absl::StatusOr<int> Stop(int signal = 15, absl::Duration timeout = absl::Seconds(10));
  void Kill() { (void)Stop(9); }

 private:
  Process(pid_t pid, std::string stderr_path) : pid_(pid), stderr_path_(std::move(stderr_path)) {}
  // Fails the test when the exited process printed a sanitizer report.
  void CheckSanitizerReport() const;
  pid_t pid_;
  std::string stderr_path_;
  std::optional<int> exit_code_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion (killed after `timeout`, which counts as a
// failure with exit_code -1).
CommandResult RunCommand(ProcessOptions options, absl::Duration timeout = absl::Seconds(30));

// --- Secrets in logs ---------------------------------------------------------------
//
// Tokens, session keys and push keys must never be logged, at any verbosity
// (the harness runs callsd and calls-server at kLogVerbosity). Every
// ServerProcess and DaemonProcess registers the files that hold its secrets;
// when a TempDir goes away, the secrets found in them (and those remembered
// before a login, logout or init through Ctl, or a Stop, replaced them) are
// looked for in every log file in the folder and in the output of every
// callsctl run so far. CALLSD_SECRET_SCAN_REPORT=1 prints what each scan
// covered.

// Above every VLOG level used in the tree (1), so that a new VLOG(2) is
// covered too.
inline constexpr int kLogVerbosity = 3;

// Known secrets, each with what it is ("alice's access token").
struct Secrets {
  // Value as it would appear in a log -> what it is.
  std::map<std::string, std::string> plain;
  // Lower-hex SHA-256 of a token (what calls-server keeps) -> what it is:
  // any 43-character token-like word of a log that hashes to one of them is
  // that token.
  std::map<std::string, std::string> hashed;

  void AddText(const std::string& kind, const std::string& value);
  // Raw bytes (a push key): as bytes, hex and base64 (padded, unpadded, URL-safe).
  void AddBinary(const std::string& kind, const std::string& bytes);
  void Merge(const Secrets& other);
  size_t size() const { return plain.size() + hashed.size(); }
};

struct SecretLeak {
  std::string where;  // file, or "callsctl output"
  std::string kind;
  size_t offset = 0;
};

// The secrets in a calls-server folder (its demo tokens and database) or a
// callsd state folder (its database); missing files give nothing.
Secrets ServerSecrets(const std::string& server_dir);
Secrets DaemonSecrets(const std::string& state_dir);
// The log files under `dir`: *.log, *.out, *.err (callsd.log,
// calls-server.log, watcher output).
std::vector<std::string> LogFiles(const std::string& dir);
// Every secret of `secrets` found in `text`, reported as found in `where`.
std::vector<SecretLeak> FindSecrets(const std::string& where, const std::string& text,
                                    const Secrets& secrets);
// Collects the secrets of every registered server and daemon (plus those
// remembered), scans the log files under `dir` and the callsctl output so
// far, and adds a test failure per leak (naming file, kind and offset,
// never the secret). Run by ~TempDir; returns the leaks.
std::vector<SecretLeak> CheckLogsForSecrets(const std::string& dir);
// Remembers the current secrets of the registered servers and daemons
// (before something wipes them: logout, init, restart).
void RememberSecrets();

// One HTTP request to `url` (e.g. a daemon's push endpoint): {HTTP status,
// body}; {0, error} when it got no answer.
std::pair<int, std::string> HttpCall(const std::string& method, const std::string& url,
                                     const std::string& body = "");

// Established TCP connections of process `pid` to `remote_port` on
// loopback, read from /proc (what ss shows).
int CountTcpConnections(pid_t pid, int remote_port);

// calls-server with the demo app and users, on an ephemeral port.
class ServerProcess {
 public:
  // Starts in `dir`/server (database, demo tokens, log). Fails the test if
  // it does not come up.
  explicit ServerProcess(const std::string& dir, std::vector<std::string> extra_args = {});
  ~ServerProcess();

  bool Start();  // again, on the same database and port when restarting
  void Stop();
  void Kill();
  bool running() const { return process_ != nullptr; }

  int port() const { return port_; }
  std::string url() const;
  std::string token_file(const std::string& user) const;  // access token of alice/bob
  std::string token(const std::string& user) const;
  std::string api_token() const;
  std::string log_path() const { return dir_ + "/calls-server.log"; }
  const Process* process() const { return process_.get(); }

  // Platform API call with the app's Api-Token: {HTTP status, body}.
  std::pair<int, std::string> Admin(const std::string& method, const std::string& path,
                                    const std::string& body = "");
  // Client API call: {HTTP status, body}.
  std::pair<int, std::string> Client(const std::string& method, const std::string& path,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& body = "");

 private:
  std::string dir_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// callsd on a socket in `dir`.
class DaemonProcess {
 public:
  DaemonProcess(const std::string& dir, const std::string& server_url,
                std::vector<std::string> extra_args = {});
  ~DaemonProcess();

  // Starts and waits until the socket answers. false (with the log in the
  // test output) if it exits or does not come up.
  bool Start();
  // SIGTERM and wait: the exit code.
  int Stop();
  void Kill();
  bool running() const { return process_ != nullptr; }
  pid_t pid() const;

  const std::string& socket() const { return socket_; }
  const std::string& state_dir() const { return state_dir_; }
  std::string log_path() const { return dir_ + "/callsd.log"; }
  std::string log() const { return ReadFile(log_path()); }
  // The session key in the daemon's database ("" when none), read as a
  // second SQLite reader.
  std::string StoredSessionKey() const;
  void set_server_url(const std::string& url) { server_url_ = url; }
  std::vector<std::string>& extra_args() { return extra_args_; }
  // Environment for the daemon process (added to the test's).
  std::map<std::string, std::string>& env() { return env_; }

  // Runs callsctl against this daemon with `args`; `stdin_text` is fed to
  // it. Extra process options (uid/gid) may be given.
  CommandResult Ctl(const std::vector<std::string>& args, const std::string& stdin_text = "",
                    ProcessOptions base = {}) const;

 private:
  std::string dir_;
  std::string socket_;
  std::string state_dir_;
  std::string server_url_;
  std::vector<std::string> extra_args_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Process> process_;
};

// The value of "key": "value" in a JSON text (callsctl --json output); ""
// when there is none.
std::string JsonField(const std::string& json, const std::string& key);

// A device of `user`: a callsd of its own in `dir` with the built-in push
// endpoint on loopback, initialized with demo-app, logged in with the access
// token in `token_file`, the endpoint registered as the user's voip token
// (so that calls ring it). `extra`: more callsd arguments.
class Device {
 public:
  Device(const std::string& dir, const ServerProcess& server, const std::string& user,
         const std::string& token_file, std::vector<std::string> extra = {});

  CommandResult Ctl(const std::vector<std::string>& args, const std::string& in = "") const {
    return daemon_.Ctl(args, in);
  }
  DaemonProcess& daemon() { return daemon_; }
  const std::string& user() const { return user_; }
  // Established connections to the calls server: the WebSocket (REST
  // requests do not stay open).
  int ServerConnections() const;
  // Registers the built-in push endpoint as the voip token (again).
  void RegisterEndpoint();
  // The push key this daemon verifies pushes with ("" when none).
  std::string PushKey() const;

 private:
  std::string user_;
  int server_port_;
  DaemonProcess daemon_;
};

// A `callsctl watch --json` running in the background; its lines are read
// from the output file.
class Watcher {
 public:
  explicit Watcher(const DaemonProcess& daemon, const std::string& dir, ProcessOptions base = {});
  ~Watcher();
  // Every JSON line so far.
  std::vector<std::string> Lines() const;
  // Waits until some line contains `needle`.
  bool WaitForLine(const std::string& needle, absl::Duration timeout = absl::Seconds(10)) const;
  Process* process() { return process_.get(); }
  std::string stderr_text() const { return ReadFile(err_); }

 private:
  std::string out_;
  std::string err_;
  std::unique_ptr<Process> process_;
};

// A TCP proxy on loopback in front of `upstream_port`: new connections are
// held (not forwarded) while the gate is closed, and forwarded byte for byte
// once it opens. Makes "the server is slow" happen on demand.
class GatedProxy {
 public:
  explicit GatedProxy(int upstream_port);
  ~GatedProxy();
  int port() const { return port_; }
  std::string url() const;
  void Close();  // hold new connections
  void Open();   // forward held and new connections
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// A fixture with a calls-server and one callsd on it (started in SetUp),
// whose logs are printed when a test fails.
class DaemonTest : public ::testing::Test {
 protected:
  // Re-authentication retries fast, so that tests of it stay short.
  static std::vector<std::string> FastRetry() {
    return {"--set=session.retry_initial_ms = 100\nsession.retry_max_ms = 400"};
  }

  explicit DaemonTest(std::vector<std::string> daemon_args = FastRetry())
      : server_(dir_.path()), daemon_(dir_.path(), server_.url(), std::move(daemon_args)) {}

  void SetUp() override { ASSERT_TRUE(daemon_.Start()); }
  void TearDown() override;

  CommandResult Ctl(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    return daemon_.Ctl(args, stdin_text);
  }
  // `callsctl --json status` of `daemon` (this fixture's by default).
  std::string StatusJson(const DaemonProcess* daemon = nullptr);
  // init demo-app, then login `user` with the demo access token.
  void InitAndLogin(const std::string& user = "alice");

  TempDir dir_;
  ServerProcess server_;
  DaemonProcess daemon_;
};

}  // namespace callsd::itest

#endif  // CALLSD_TESTS_INTEGRATION_HARNESS_H_
