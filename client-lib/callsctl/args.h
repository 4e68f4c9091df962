// callsctl's command line: grammar, parser and help texts.
//
//   callsctl [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS]
//
// Global options (anywhere on the line): --socket PATH, --json,
// --timeout SECONDS, --help / -h. Options take their value as the next
// argument or after '=' (--socket=/x). "--" ends the options. A token is
// never an argument: it comes from --token-file FILE or --token-stdin; nor is
// a push payload (`push deliver` reads it from standard input).
#ifndef CALLSD_CLIENT_LIB_CALLSCTL_ARGS_H_
#define CALLSD_CLIENT_LIB_CALLSCTL_ARGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "callsd/v1/callsd.pb.h"

namespace callsd::ctl {

enum class Command {
  kHelp,
  kStatus,
  kInit,
  kLogin,
  kLogout,
  kRefreshToken,
  kWatch,
  kPushRegister,
  kPushUnregister,
  kPushUnregisterAll,
  kPushList,
  kPushDeliver,
  kDial,
  kAccept,
  kDecline,
  kEnd,
  kMute,
  kUnmute,
  kCalls,
  kHistory,
  kRoomCreate,
  kRoomEnter,
  kRoomExit,
  kRoomShow,
  kRoomList,
  kRoomMute,
  kRoomUnmute,
  kRoomDelete,
};

struct GlobalOptions {
  std::string socket_path;  // Empty: the default socket.
  bool json = false;
  std::optional<absl::Duration> timeout;  // Unset: the library's default.
};

// Where a token comes from: exactly one of the two.
struct TokenSource {
  std::string file;
  bool from_stdin = false;
};

// A parsed, valid command line.
struct Invocation {
  Command command = Command::kHelp;
  // The command's name as typed in messages: "login", "push register".
  std::string name;
  GlobalOptions global;

  // kHelp: the topic ("" for the overview, "login", "push", "push register",
  // "room", "room enter").
  std::string help_topic;
  // init
  std::string app_id;
  // login
  std::string user_id;
  bool session_token = false;
  // login, refresh-token
  TokenSource token;
  // logout
  bool keep_push_tokens = false;
  // push *
  callsd::v1::PushTokenType push_type = callsd::v1::PUSH_TOKEN_TYPE_UNSPECIFIED;
  std::string url;
  bool unique = false;
  // dial
  std::string callee_id;
  bool video = false;
  // accept, decline, end, mute, unmute
  std::string call_id;
  // history: 1..100, or 0 for the daemon's default (20).
  int history_limit = 0;
  std::string history_next;
  // room *
  std::string room_id;
  // room create: UNSPECIFIED (the daemon's default, small) unless --type.
  callsd::v1::RoomType room_type = callsd::v1::ROOM_TYPE_UNSPECIFIED;
  // room enter --muted
  bool room_muted = false;
};

// The result of ParseArgs: an invocation, or a usage error.
struct ParseResult {
  std::optional<Invocation> invocation;
  // On a usage error: what is wrong, prefixed with the command when known
  // ("login: missing USER"), without the "callsctl: " prefix.
  std::string error;
  // On a usage error: the usage line(s) of the command (or of callsctl) and
  // a pointer to the help, ready to print after `error`.
  std::string usage;
};

// Parses the arguments after argv[0]. `--help`/`-h` anywhere, or `help
// [TOPIC]`, gives Command::kHelp with the topic of the command it follows.
ParseResult ParseArgs(const std::vector<std::string>& args);

// The full help for `topic` (as in Invocation::help_topic; "" is the
// overview), ending with a newline. An unknown topic gives the overview.
std::string HelpText(absl::string_view topic);

// "usage: callsctl login USER (--token-file FILE | --token-stdin) [--session-token]".
std::string UsageLine(absl::string_view topic);

}  // namespace callsd::ctl

#endif  // CALLSD_CLIENT_LIB_CALLSCTL_ARGS_H_
