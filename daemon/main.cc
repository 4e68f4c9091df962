// callsd: flags and config, run, wait for SIGTERM/SIGINT; nothing else.
#include <signal.h>
#include <systemd/sd-daemon.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/signals.h"
#include "daemon/config/config.h"
#include "daemon/daemon.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, config, "", "TOML config file (see /etc/callsd/callsd.conf)");
ABSL_FLAG(std::string, socket, "", "Unix socket to serve (overrides daemon.socket)");
ABSL_FLAG(std::string, state_dir, "", "state directory (overrides daemon.state_dir)");
ABSL_FLAG(std::string, server_url, "", "calls server base URL (overrides server.url)");
ABSL_FLAG(std::string, set, "",
          "config keys as TOML, e.g. --set 'session.refresh_lead_s = 30'; may be repeated, "
          "later ones win");
ABSL_FLAG(int, verbosity, 0, "glog verbosity: 1 logs every request (never a token)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "callsd: holds a Calls session for every local app; serves gRPC on a Unix socket.\n"
      "usage: callsd [--config FILE] [--socket PATH] [--state_dir DIR] [--server_url URL] "
      "[--set 'key = value']");
  // --set may be given several times (absl keeps only the last value of a
  // flag), so its occurrences are taken out before absl parses the rest.
  std::vector<std::string> set_overrides;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--set=", 0) == 0) {
      set_overrides.push_back(arg.substr(6));
    } else if (arg == "--set" && i + 1 < argc) {
      set_overrides.push_back(argv[++i]);
    } else {
      args.push_back(argv[i]);
    }
  }
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  FLAGS_logtostderr = true;
  FLAGS_v = absl::GetFlag(FLAGS_verbosity);
  google::InitGoogleLogging(argv[0]);

  if (absl::Status s = callsd::InstallSignalPipe({SIGTERM, SIGINT, SIGHUP}); !s.ok()) {
    std::fprintf(stderr, "callsd: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  std::vector<std::string> overrides;
  auto quoted = [](const std::string& v) {
    // TOML basic string with the few escapes a path or URL may need.
    std::string out = "\"";
    for (char ch : v) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    return out + "\"";
  };
  if (!absl::GetFlag(FLAGS_socket).empty()) {
    overrides.push_back("daemon.socket = " + quoted(absl::GetFlag(FLAGS_socket)));
  }
  if (!absl::GetFlag(FLAGS_state_dir).empty()) {
    overrides.push_back("daemon.state_dir = " + quoted(absl::GetFlag(FLAGS_state_dir)));
  }
  if (!absl::GetFlag(FLAGS_server_url).empty()) {
    overrides.push_back("server.url = " + quoted(absl::GetFlag(FLAGS_server_url)));
  }
  overrides.insert(overrides.end(), set_overrides.begin(), set_overrides.end());

  auto config = callsd::daemon::LoadConfig(absl::GetFlag(FLAGS_config), overrides);
  if (!config.ok()) {
    std::fprintf(stderr, "callsd: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  if (config->server_url.empty()) {
    std::fprintf(stderr, "callsd: config %s: server.url: is required (the calls server's base URL)\n",
                 absl::GetFlag(FLAGS_config).empty() ? "(defaults)"
                                                     : absl::GetFlag(FLAGS_config).c_str());
    return 1;
  }

  callsd::daemon::Daemon daemon(*std::move(config));
  if (absl::Status started = daemon.Start(); !started.ok()) {
    std::fprintf(stderr, "callsd: %s\n", std::string(started.message()).c_str());
    daemon.Shutdown();
    return 1;
  }
  sd_notifyf(0, "READY=1\nSTATUS=%s", daemon.StatusLine().c_str());

  for (;;) {
    const int sig = callsd::WaitForSignal();
    if (sig == SIGHUP) {
      LOG(INFO) << "SIGHUP: nothing to reload (" << daemon.StatusLine() << ")";
      continue;
    }
    LOG(INFO) << "received " << strsignal(sig);
    break;
  }
  sd_notify(0, "STOPPING=1");
  daemon.Shutdown();
  return 0;
}
