#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/crypto.h"
#include "common/http/lws_http_client.h"
#include "common/sqlite_db.h"
#include "gtest/gtest.h"

extern char** environ;

namespace callsd::itest {

std::string Binary(const std::string& name) {
  if (name == "callsd") return CALLSD_BIN;
  if (name == "calls-server") return CALLS_SERVER_BIN;
  if (name == "callsctl") return CALLSCTL_BIN;
  ADD_FAILURE() << "unknown binary " << name;
  return name;
}

// --- TempDir ----------------------------------------------------------------

TempDir::TempDir() {
  char tmpl[] = "/tmp/cdt-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
  }
  path_ = tmpl;
  chmod(path_.c_str(), 0755);  // other test uids must reach the socket
}

TempDir::~TempDir() {
  CheckLogsForSecrets(path_);
  if (std::getenv("CALLSD_KEEP_TEST_DIRS") != nullptr) {
    std::fprintf(stderr, "keeping %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout,
             absl::Duration poll) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(poll);
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  chmod(path.c_str(), mode);
}

// --- Process ----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Process>> Process::Start(ProcessOptions options) {
  std::vector<std::string> argv;
  if (options.uid || options.gid) {
    argv = {"/usr/bin/setpriv"};
    if (options.uid) argv.push_back(absl::StrCat("--reuid=", *options.uid));
    if (options.gid) argv.push_back(absl::StrCat("--regid=", *options.gid));
    if (options.groups.empty()) {
      argv.push_back("--clear-groups");
    } else {
      argv.push_back(absl::StrCat("--groups=", absl::StrJoin(options.groups, ",")));
    }
    argv.push_back("--");
  }
  argv.insert(argv.end(), options.argv.begin(), options.argv.end());

  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::pair<std::string, std::string> kv = absl::StrSplit(*e, absl::MaxSplits('=', 1));
    env[kv.first] = kv.second;
  }
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);

  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (auto& e : env_strings) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  auto path_or_null = [](const std::string& p) { return p.empty() ? "/dev/null" : p.c_str(); };
  posix_spawn_file_actions_addopen(&actions, 0, path_or_null(options.stdin_path), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, path_or_null(options.stdout_path),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, path_or_null(options.stderr_path),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  // A fresh signal mask and default dispositions in the child.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, c_argv[0], &actions, &attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("spawn ", argv[0], ": ", std::strerror(rc)));
  }
  return std::unique_ptr<Process>(new Process(pid, options.stderr_path));
}

Process::~Process() {
  if (!exit_code_) Kill();
}

bool Process::Running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    CheckSanitizerReport();
    return false;
  }
  return r == 0;
}

// The sanitizer builds (scripts/test --asan/--tsan) stop a process at its
// first report; a child's death can go unnoticed (e.g. while stopping), so
// the report in its stderr fails the test.
void Process::CheckSanitizerReport() const {
  if (stderr_path_.empty()) return;
  const std::string err = ReadFile(stderr_path_);
  for (const char* marker : {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
                             "ERROR: LeakSanitizer", ": runtime error: "}) {
    const size_t at = err.find(marker);
    if (at == std::string::npos) continue;
    ADD_FAILURE() << "sanitizer report from pid " << pid_ << " in " << stderr_path_ << ":\n"
                  << err.substr(at, 8000);
    return;
  }
}

absl::StatusOr<int> Process::Wait(absl::Duration timeout) {
  if (!WaitFor([this] { return !Running(); }, timeout, absl::Milliseconds(2))) {
    return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " still running after ",
                                                    absl::FormatDuration(timeout)));
  }
  return exit_code_.value_or(-1);
}

absl::StatusOr<int> Process::Stop(int signal, absl::Duration timeout) {
  if (exit_code_) return *exit_code_;
  ::kill(pid_, signal);
  auto code = Wait(timeout);
  if (!code.ok() && signal != SIGKILL) {
    ::kill(pid_, SIGKILL);
    (void)Wait(absl::Seconds(10));
  }
  return code;
}

// --- Secrets in logs ---------------------------------------------------------------

namespace {

// What the harness knows of the current test's secrets: where they are kept
// and what was seen before being wiped, plus the output of its commands.
struct SecretRegistry {
  absl::Mutex mu;
  std::string test ABSL_GUARDED_BY(mu);  // the test all of this belongs to
  std::set<std::string> server_dirs ABSL_GUARDED_BY(mu);
  std::set<std::string> state_dirs ABSL_GUARDED_BY(mu);
  Secrets remembered ABSL_GUARDED_BY(mu);
  std::string transcript ABSL_GUARDED_BY(mu);
};

// Enough for any test's commands; a load test's flood beyond it is cut.
constexpr size_t kTranscriptLimit = 16 << 20;
// RandomToken(): 32 bytes in unpadded URL-safe base64.
constexpr size_t kTokenChars = 43;

SecretRegistry& Registry() {
  static SecretRegistry* const registry = new SecretRegistry;
  return *registry;
}

std::string CurrentTest() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info == nullptr ? "" : absl::StrCat(info->test_suite_name(), ".", info->name());
}

// Starts afresh when a new test began (tests may share a process).
void ForCurrentTest(SecretRegistry& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r.mu) {
  const std::string test = CurrentTest();
  if (r.test == test) return;
  r.test = test;
  r.server_dirs.clear();
  r.state_dirs.clear();
  r.remembered = Secrets();
  r.transcript.clear();
}

void RegisterServerDir(const std::string& dir) {
  SecretRegistry& r = Registry();
  absl::MutexLock lock(&r.mu);
  ForCurrentTest(r);
  r.server_dirs.insert(dir);
}

void RegisterStateDir(const std::string& dir) {
  SecretRegistry& r = Registry();
  absl::MutexLock lock(&r.mu);
  ForCurrentTest(r);
  r.state_dirs.insert(dir);
}

void AddToTranscript(const std::string& out, const std::string& err) {
  SecretRegistry& r = Registry();
  absl::MutexLock lock(&r.mu);
  ForCurrentTest(r);
  for (const std::string* text : {&out, &err}) {
    if (r.transcript.size() + text->size() > kTranscriptLimit) return;
    absl::StrAppend(&r.transcript, *text, "\n");
  }
}

// Remembers the secrets in one daemon's database.
void RememberStateDir(const std::string& state_dir) {
  Secrets secrets = DaemonSecrets(state_dir);
  SecretRegistry& r = Registry();
  absl::MutexLock lock(&r.mu);
  ForCurrentTest(r);
  r.remembered.Merge(secrets);
}

// Read-only view of a database another process may be writing (WAL).
std::unique_ptr<SqliteDb> OpenForReading(const std::string& path) {
  if (!std::filesystem::exists(path)) return nullptr;
  SqliteDb::Options o;
  o.create = false;
  o.synchronous = "NORMAL";
  o.check_integrity = false;
  auto db = SqliteDb::Open(path, o);
  return db.ok() ? *std::move(db) : nullptr;
}

// Runs `sql` and hands each row to `row`; a table that does not exist yet
// (a database before its migrations) gives no rows.
void ForEachRow(SqliteDb* db, const char* sql, const std::function<void(Statement&)>& row) {
  if (db == nullptr) return;
  auto stmt = db->Prepare(sql);
  if (!stmt.ok()) return;
  for (;;) {
    auto more = stmt->Step();
    if (!more.ok() || !*more) return;
    row(*stmt);
  }
}

bool IsTokenChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_'; }

}  // namespace

void Secrets::AddText(const std::string& kind, const std::string& value) {
  // Shorter values would match by chance (and are no real secrets).
  if (value.size() >= 8) plain.emplace(value, kind);
}

void Secrets::AddBinary(const std::string& kind, const std::string& bytes) {
  if (bytes.empty()) return;
  AddText(kind, bytes);
  const std::string hex = absl::BytesToHexString(bytes);
  AddText(kind + " (hex)", hex);
  AddText(kind + " (hex)", absl::AsciiStrToUpper(hex));
  const std::string base64 = absl::Base64Escape(bytes);
  AddText(kind + " (base64)", base64);
  AddText(kind + " (base64)", std::string(absl::StripSuffix(absl::StripSuffix(base64, "="), "=")));
  AddText(kind + " (base64url)", absl::WebSafeBase64Escape(bytes));
}

void Secrets::Merge(const Secrets& other) {
  plain.insert(other.plain.begin(), other.plain.end());
  hashed.insert(other.hashed.begin(), other.hashed.end());
}

Secrets ServerSecrets(const std::string& server_dir) {
  Secrets s;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(server_dir + "/demo", ec)) {
    const std::string name = entry.path().filename().string();
    const std::string value(absl::StripAsciiWhitespace(ReadFile(entry.path().string())));
    if (absl::EndsWith(name, ".token")) {
      s.AddText(absl::StrCat(absl::StripSuffix(name, ".token"), "'s access token"), value);
    } else if (name == "api-token") {
      s.AddText("the demo app's API token", value);
    }
  }
  std::unique_ptr<SqliteDb> db = OpenForReading(server_dir + "/calls-server.db");
  ForEachRow(db.get(), "SELECT user_id, push_key FROM users", [&](Statement& row) {
    s.AddBinary(row.ColumnText(0) + "'s push key", row.ColumnBlob(1));
  });
  ForEachRow(db.get(), "SELECT token_hash FROM access_tokens",
             [&](Statement& row) { s.hashed.emplace(row.ColumnText(0), "an access token"); });
  ForEachRow(db.get(), "SELECT token_hash FROM session_tokens",
             [&](Statement& row) { s.hashed.emplace(row.ColumnText(0), "a session token"); });
  ForEachRow(db.get(), "SELECT key_hash FROM session_keys",
             [&](Statement& row) { s.hashed.emplace(row.ColumnText(0), "a session key"); });
  return s;
}

Secrets DaemonSecrets(const std::string& state_dir) {
  Secrets s;
  std::unique_ptr<SqliteDb> db = OpenForReading(state_dir + "/callsd.db");
  ForEachRow(db.get(), "SELECT token_kind, token, session_key, push_key FROM session",
             [&](Statement& row) {
               s.AddText(row.ColumnInt(0) == 2 ? "the daemon's session token"
                                               : "the daemon's access token",
                         row.ColumnText(1));
               s.AddText("the daemon's session key", row.ColumnText(2));
               s.AddBinary("the daemon's push key", row.ColumnBlob(3));
             });
  ForEachRow(db.get(), "SELECT session_key FROM pending_ops", [&](Statement& row) {
    s.AddText("a session key awaiting logout", row.ColumnText(0));
  });
  return s;
}

std::vector<std::string> LogFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(
      dir, std::filesystem::directory_options::skip_permission_denied, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    std::error_code type_ec;
    if ((ext == ".log" || ext == ".out" || ext == ".err") && it->is_regular_file(type_ec)) {
      files.push_back(it->path().string());
    }
  }
  return files;
}

std::vector<SecretLeak> FindSecrets(const std::string& where, const std::string& text,
                                    const Secrets& secrets) {
  std::vector<SecretLeak> leaks;
  std::set<std::string> reported;  // one report per kind and file
  auto report = [&](const std::string& kind, size_t offset) {
    if (reported.insert(kind).second) leaks.push_back({where, kind, offset});
  };
  std::set<size_t> plain_at;  // a token found as itself is not reported again by its hash
  for (const auto& [value, kind] : secrets.plain) {
    const size_t at = text.find(value);
    if (at == std::string::npos) continue;
    report(kind, at);
    plain_at.insert(at);
  }
  if (secrets.hashed.empty()) return leaks;
  // Tokens the server only keeps hashed: every token-long window of every
  // run of token characters.
  for (size_t i = 0; i < text.size();) {
    if (!IsTokenChar(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && IsTokenChar(text[end])) ++end;
    for (size_t at = i; at + kTokenChars <= end; ++at) {
      auto found = secrets.hashed.find(Sha256Hex(absl::string_view(text).substr(at, kTokenChars)));
      if (found != secrets.hashed.end() && plain_at.count(at) == 0) report(found->second, at);
    }
    i = end;
  }
  return leaks;
}

void RememberSecrets() {
  SecretRegistry& r = Registry();
  absl::MutexLock lock(&r.mu);
  ForCurrentTest(r);
  for (const std::string& dir : r.server_dirs) r.remembered.Merge(ServerSecrets(dir));
  for (const std::string& dir : r.state_dirs) r.remembered.Merge(DaemonSecrets(dir));
}

std::vector<SecretLeak> CheckLogsForSecrets(const std::string& dir) {
  const absl::Time start = absl::Now();
  const std::vector<std::string> files = LogFiles(dir);
  if (files.empty()) return {};  // a command's own folder: nothing to scan
  RememberSecrets();
  Secrets secrets;
  std::string transcript;
  {
    SecretRegistry& r = Registry();
    absl::MutexLock lock(&r.mu);
    secrets = r.remembered;
    transcript.swap(r.transcript);  // scanned once
  }
  std::vector<SecretLeak> leaks;
  for (const std::string& file : files) {
    std::vector<SecretLeak> found = FindSecrets(file, ReadFile(file), secrets);
    leaks.insert(leaks.end(), found.begin(), found.end());
  }
  std::vector<SecretLeak> in_output = FindSecrets("callsctl output", transcript, secrets);
  leaks.insert(leaks.end(), in_output.begin(), in_output.end());
  if (std::getenv("CALLSD_SECRET_SCAN_REPORT") != nullptr) {
    std::fprintf(stderr, "secret scan of %s: %zu secrets in %zu log files and %zu bytes of "
                 "callsctl output in %s\n", dir.c_str(), secrets.size(), files.size(),
                 transcript.size(), absl::FormatDuration(absl::Now() - start).c_str());
  }
  for (const SecretLeak& leak : leaks) {
    ADD_FAILURE() << "a secret was logged: " << leak.kind << " in " << leak.where << " at byte "
                  << leak.offset << " (set CALLSD_KEEP_TEST_DIRS=1 to keep the folder)";
  }
  return leaks;
}

CommandResult RunCommand(ProcessOptions options, absl::Duration timeout) {
  TempDir dir;
  options.stdout_path = dir / "out";
  options.stderr_path = dir / "err";
  CommandResult result;
  auto process = Process::Start(options);
  if (!process.ok()) {
    result.err = std::string(process.status().message());
    return result;
  }
  auto code = (*process)->Wait(timeout);
  if (!code.ok()) {
    ADD_FAILURE() << absl::StrJoin(options.argv, " ") << " did not finish within "
                  << absl::FormatDuration(timeout);
    (*process)->Kill();
  } else {
    result.exit_code = *code;
  }
  result.out = ReadFile(options.stdout_path);
  result.err = ReadFile(options.stderr_path);
  AddToTranscript(result.out, result.err);
  return result;
}

// --- Sockets in /proc -----------------------------------------------------------

int CountTcpConnections(pid_t pid, int remote_port) {
  // Inodes of the process's sockets.
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/fd"), ec)) {
    std::error_code link_ec;
    const std::string target = std::filesystem::read_symlink(entry.path(), link_ec).string();
    if (absl::StartsWith(target, "socket:[")) {
      inodes.insert(std::string(absl::StripSuffix(absl::StripPrefix(target, "socket:["), "]")));
    }
  }
  int count = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream lines(ReadFile(table));
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() < 10) continue;
      // f[2] = remote "ADDR:PORT" (hex), f[3] = state (01 established), f[9] = inode.
      const std::string& remote = f[2];
      int port = 0;
      const std::string hex_port = remote.substr(remote.find(':') + 1);
      port = static_cast<int>(std::strtol(hex_port.c_str(), nullptr, 16));
      if (port == remote_port && f[3] == "01" && inodes.count(f[9]) > 0) ++count;
    }
  }
  return count;
}

// --- HTTP for the admin API ------------------------------------------------------

namespace {

LwsHttpClient& Http() {
  static LwsHttpClient* client = [] {
    auto c = LwsHttpClient::Create({});
    if (!c.ok()) {
      std::fprintf(stderr, "harness HTTP client: %s\n", std::string(c.status().message()).c_str());
      std::abort();
    }
    return c->release();
  }();
  return *client;
}

std::pair<int, std::string> SendSync(HttpRequest request) {
  absl::Notification done;
  absl::StatusOr<HttpResponse> response;
  Http().Send(std::move(request), [&](absl::StatusOr<HttpResponse> r) {
    response = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  if (!response.ok()) return {0, std::string(response.status().message())};
  return {response->status, response->body};
}

}  // namespace

std::pair<int, std::string> HttpCall(const std::string& method, const std::string& url,
                                     const std::string& body) {
  HttpRequest request;
  request.method = method;
  request.url = url;
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = body;
  request.timeout = absl::Seconds(10);
  return SendSync(std::move(request));
}

// --- ServerProcess ------------------------------------------------------------------

ServerProcess::ServerProcess(const std::string& dir, std::vector<std::string> extra_args)
    : dir_(dir + "/server"), extra_args_(std::move(extra_args)) {
  std::filesystem::create_directories(dir_ + "/demo");
  RegisterServerDir(dir_);
  EXPECT_TRUE(Start());
}

ServerProcess::~ServerProcess() { Stop(); }

bool ServerProcess::Start() {
  std::filesystem::remove(dir_ + "/port");
  ProcessOptions o;
  o.argv = {Binary("calls-server"), "--listen=127.0.0.1",
            absl::StrCat("--port=", port_),  // 0 the first time, then the same
            "--port_file=" + dir_ + "/port", "--db=" + dir_ + "/calls-server.db",
            "--demo_dir=" + dir_ + "/demo"};
  o.argv.insert(o.argv.end(), extra_args_.begin(), extra_args_.end());
  o.env["GLOG_v"] = absl::StrCat(kLogVerbosity);  // calls-server has no flag of its own
  o.stderr_path = log_path();
  auto p = Process::Start(o);
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    return false;
  }
  process_ = *std::move(p);
  const bool up = WaitFor([&] {
    return !ReadFile(dir_ + "/port").empty() || !process_->Running();
  }, absl::Seconds(20));
  int port = 0;
  if (!up || !absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(dir_ + "/port")), &port)) {
    ADD_FAILURE() << "calls-server did not start:\n" << ReadFile(log_path());
    process_.reset();
    return false;
  }
  port_ = port;
  return true;
}

void ServerProcess::Stop() {
  if (process_ == nullptr) return;
  auto code = process_->Stop(SIGTERM);
  EXPECT_TRUE(code.ok() && *code == 0) << "calls-server did not stop cleanly: "
                                       << (code.ok() ? absl::StrCat(*code) : code.status().ToString())
                                       << "\n" << ReadFile(log_path());
  process_.reset();
}

void ServerProcess::Kill() {
  if (process_ == nullptr) return;
  process_->Kill();
  process_.reset();
}

std::string ServerProcess::url() const { return absl::StrCat("http://127.0.0.1:", port_); }

std::string ServerProcess::token_file(const std::string& user) const {
  return dir_ + "/demo/" + user + ".token";
}

std::string ServerProcess::token(const std::string& user) const {
  return std::string(absl::StripAsciiWhitespace(ReadFile(token_file(user))));
}

std::string ServerProcess::api_token() const {
  return std::string(absl::StripAsciiWhitespace(ReadFile(dir_ + "/demo/api-token")));
}

std::pair<int, std::string> ServerProcess::Admin(const std::string& method,
                                                 const std::string& path,
                                                 const std::string& body) {
  return Client(method, path, {{"Api-Token", api_token()}}, body);
}

std::pair<int, std::string> ServerProcess::Client(
    const std::string& method, const std::string& path,
    const std::map<std::string, std::string>& headers, const std::string& body) {
  HttpRequest request;
  request.method = method;
  request.url = url() + path;
  for (const auto& [k, v] : headers) request.headers.emplace_back(k, v);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = body;
  request.timeout = absl::Seconds(10);
  return SendSync(std::move(request));
}

// --- DaemonProcess ------------------------------------------------------------------

DaemonProcess::DaemonProcess(const std::string& dir, const std::string& server_url,
                             std::vector<std::string> extra_args)
    : dir_(dir),
      socket_(dir + "/d.sock"),
      state_dir_(dir + "/state"),
      server_url_(server_url),
      extra_args_(std::move(extra_args)) {
  RegisterStateDir(state_dir_);
}

DaemonProcess::~DaemonProcess() {
  if (process_ != nullptr) Stop();
}

bool DaemonProcess::Start() {
  ProcessOptions o;
  o.argv = {Binary("callsd"), "--socket=" + socket_, "--state_dir=" + state_dir_,
            "--server_url=" + server_url_, absl::StrCat("--verbosity=", kLogVerbosity)};
  o.argv.insert(o.argv.end(), extra_args_.begin(), extra_args_.end());
  o.env = env_;
  o.stderr_path = log_path();
  auto p = Process::Start(o);
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    return false;
  }
  process_ = *std::move(p);
  // Up when the socket answers GetState.
  const bool up = WaitFor(
      [&] {
        if (!process_->Running()) return true;
        struct stat st {};
        if (stat(socket_.c_str(), &st) != 0) return false;
        return Ctl({"status"}).exit_code == 0;
      },
      absl::Seconds(20), absl::Milliseconds(20));
  if (!up || !process_->Running()) {
    ADD_FAILURE() << "callsd did not start:\n" << log();
    process_.reset();
    return false;
  }
  return true;
}

int DaemonProcess::Stop() {
  if (process_ == nullptr) return -1;
  auto code = process_->Stop(SIGTERM, absl::Seconds(15));
  process_.reset();
  // A restart authenticates anew: this session's secrets are kept in mind.
  // (Not after a SIGKILL: opening the database then would recover its WAL
  // before the daemon does, which crash tests want the daemon to do.)
  RememberStateDir(state_dir_);
  EXPECT_TRUE(code.ok()) << "callsd did not stop on SIGTERM:\n" << log();
  return code.ok() ? *code : -1;
}

void DaemonProcess::Kill() {
  if (process_ == nullptr) return;
  process_->Kill();
  process_.reset();
}

std::string DaemonProcess::StoredSessionKey() const {
  SqliteDb::Options options;
  options.create = false;
  options.synchronous = "NORMAL";
  options.check_integrity = false;
  auto db = SqliteDb::Open(state_dir_ + "/callsd.db", options);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return "";
  auto stmt = (*db)->Prepare("SELECT session_key FROM session");
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  if (!stmt.ok()) return "";
  auto row = stmt->Step();
  return row.ok() && *row ? stmt->ColumnText(0) : "";
}

pid_t DaemonProcess::pid() const { return process_ ? process_->pid() : -1; }

CommandResult DaemonProcess::Ctl(const std::vector<std::string>& args,
                                 const std::string& stdin_text, ProcessOptions base) const {
  // Commands that wipe or replace the session: its secrets are kept in mind
  // (while the daemon runs: a second reader changes nothing then).
  for (const std::string& arg : args) {
    if (absl::StartsWith(arg, "-")) continue;
    if ((arg == "logout" || arg == "init" || arg == "login") && process_ != nullptr) {
      RememberStateDir(state_dir_);
    }
    break;
  }
  TempDir tmp;
  base.argv = {Binary("callsctl"), "--socket=" + socket_};
  base.argv.insert(base.argv.end(), args.begin(), args.end());
  if (!stdin_text.empty()) {
    base.stdin_path = tmp / "stdin";
    WriteFile(base.stdin_path, stdin_text, 0644);
  }
  return RunCommand(std::move(base));
}

// --- Watcher ------------------------------------------------------------------------

Watcher::Watcher(const DaemonProcess& daemon, const std::string& dir, ProcessOptions base) {
  static int counter = 0;
  const std::string name = absl::StrCat(dir, "/watch-", ++counter);
  out_ = name + ".out";
  err_ = name + ".err";
  base.argv = {Binary("callsctl"), "--socket=" + daemon.socket(), "--json", "watch"};
  base.stdout_path = out_;
  base.stderr_path = err_;
  auto p = Process::Start(base);
  EXPECT_TRUE(p.ok()) << p.status();
  if (p.ok()) process_ = *std::move(p);
  // Subscribed once the snapshot arrived.
  EXPECT_TRUE(WaitForLine("\"snapshot\"")) << "no snapshot: " << ReadFile(err_);
}

Watcher::~Watcher() {
  if (process_) (void)process_->Stop(SIGINT);
}

std::vector<std::string> Watcher::Lines() const {
  std::vector<std::string> lines = absl::StrSplit(ReadFile(out_), '\n', absl::SkipEmpty());
  return lines;
}

bool Watcher::WaitForLine(const std::string& needle, absl::Duration timeout) const {
  return WaitFor(
      [&] {
        for (const std::string& line : Lines()) {
          if (line.find(needle) != std::string::npos) return true;
        }
        return false;
      },
      timeout);
}

// --- GatedProxy ------------------------------------------------------------------------

struct GatedProxy::Impl {
  int upstream_port = 0;
  int listen_fd = -1;
  std::atomic<bool> stop{false};
  std::atomic<bool> open{true};
  std::atomic<int> connections{0};
  std::thread acceptor;
  absl::Mutex mu;
  std::vector<std::thread> pumps ABSL_GUARDED_BY(mu);

  void Pump(int client) {
    // Wait for the gate, then connect upstream and copy both ways.
    while (!open.load() && !stop.load()) {
      pollfd p{client, POLLIN | POLLRDHUP, 0};
      if (::poll(&p, 1, 10) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        ::close(client);
        return;
      }
    }
    const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port));
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(up);
      ::close(client);
      return;
    }
    char buf[16384];
    while (!stop.load()) {
      pollfd p[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (p[i].revents == 0) continue;
        const ssize_t n = ::read(p[i].fd, buf, sizeof(buf));
        if (n <= 0) {
          done = true;
          break;
        }
        const int to = i == 0 ? up : client;
        for (ssize_t off = 0; off < n;) {
          const ssize_t w = ::write(to, buf + off, n - off);
          if (w <= 0) {
            done = true;
            break;
          }
          off += w;
        }
      }
      if (done) break;
    }
    ::close(up);
    ::close(client);
  }
};

GatedProxy::GatedProxy(int upstream_port) : impl_(std::make_unique<Impl>()) {
  impl_->upstream_port = upstream_port;
  impl_->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  EXPECT_EQ(::listen(impl_->listen_fd, 64), 0);
  Impl* impl = impl_.get();
  impl_->acceptor = std::thread([impl] {
    while (!impl->stop.load()) {
      pollfd p{impl->listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(impl->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++impl->connections;
      absl::MutexLock lock(&impl->mu);
      impl->pumps.emplace_back([impl, c] { impl->Pump(c); });
    }
  });
}

GatedProxy::~GatedProxy() {
  impl_->stop = true;
  impl_->acceptor.join();  // no new pumps after this
  std::vector<std::thread> pumps;
  {
    absl::MutexLock lock(&impl_->mu);
    pumps.swap(impl_->pumps);
  }
  for (std::thread& t : pumps) t.join();
  ::close(impl_->listen_fd);
}

std::string GatedProxy::url() const { return absl::StrCat("http://127.0.0.1:", port_); }
void GatedProxy::Close() { impl_->open = false; }
void GatedProxy::Open() { impl_->open = true; }
int GatedProxy::connections() const { return impl_->connections.load(); }

// --- DaemonTest ------------------------------------------------------------------------

void DaemonTest::TearDown() {
  if (HasFailure()) {
    std::fprintf(stderr, "--- callsd log ---\n%s\n--- calls-server log ---\n%s\n",
                 daemon_.log().c_str(), ReadFile(server_.log_path()).c_str());
  }
}

std::string DaemonTest::StatusJson(const DaemonProcess* daemon) {
  CommandResult status = (daemon ? daemon : &daemon_)->Ctl({"--json", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  return status.out;
}

void DaemonTest::InitAndLogin(const std::string& user) {
  CommandResult init = Ctl({"init", "demo-app"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  CommandResult login = Ctl({"login", user, "--token-file", server_.token_file(user)});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  ASSERT_NE(login.out.find("AUTHENTICATED"), std::string::npos) << login.out;
}

std::string JsonField(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\": ?\"([^\"]*)\""))) return m[1];
  return "";
}

namespace {
std::string CreatedDir(const std::string& dir) {
  std::filesystem::create_directories(dir);
  return dir;
}
std::vector<std::string> WithPushEndpoint(std::vector<std::string> extra) {
  extra.push_back("--set=push.endpoint = \"127.0.0.1:0\"");
  return extra;
}
}  // namespace

Device::Device(const std::string& dir, const ServerProcess& server, const std::string& user,
               const std::string& token_file, std::vector<std::string> extra)
    : user_(user),
      server_port_(server.port()),
      daemon_(CreatedDir(dir), server.url(), WithPushEndpoint(std::move(extra))) {
  EXPECT_TRUE(daemon_.Start());
  EXPECT_EQ(daemon_.Ctl({"init", "demo-app"}).exit_code, 0);
  CommandResult login = daemon_.Ctl({"login", user, "--token-file", token_file});
  EXPECT_EQ(login.exit_code, 0) << login.err;
  RegisterEndpoint();
}

int Device::ServerConnections() const {
  return daemon_.pid() > 0 ? CountTcpConnections(daemon_.pid(), server_port_) : 0;
}

void Device::RegisterEndpoint() {
  const std::string endpoint =
      JsonField(daemon_.Ctl({"--json", "status"}).out, "push_endpoint_url");
  EXPECT_FALSE(endpoint.empty());
  CommandResult reg = daemon_.Ctl({"push", "register", "voip", endpoint});
  EXPECT_EQ(reg.exit_code, 0) << reg.err;
}

std::string Device::PushKey() const {
  SqliteDb::Options o;
  o.create = false;
  o.check_integrity = false;
  auto db = SqliteDb::Open(daemon_.state_dir() + "/callsd.db", o);
  if (!db.ok()) return "";
  auto stmt = (*db)->Prepare("SELECT push_key FROM session");
  if (!stmt.ok() || !*stmt->Step()) return "";
  return stmt->ColumnBlob(0);
}

}  // namespace callsd::itest
