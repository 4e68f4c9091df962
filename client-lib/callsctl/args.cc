#include "client-lib/callsctl/args.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace callsd::ctl {
namespace {

struct OptionSpec {
  absl::string_view name;        // Without the dashes.
  absl::string_view value_name;  // Empty: a flag.
  absl::string_view help;
};

struct CommandSpec {
  Command command;
  absl::string_view name;  // "push register"
  std::vector<absl::string_view> positionals;
  absl::string_view usage_args;
  absl::string_view summary;
  absl::string_view description;
  std::vector<absl::string_view> options;  // Names into kCommandOptions.
};

const std::vector<OptionSpec>& GlobalOptionSpecs() {
  static const auto* specs = new std::vector<OptionSpec>{
      {"socket", "PATH",
       "the daemon's socket (default: $CALLSD_SOCKET, else /run/callsd/callsd.sock when it "
       "exists, else $XDG_RUNTIME_DIR/callsd/callsd.sock)"},
      {"json", "", "print the response (or each event) as JSON instead of text"},
      {"timeout", "SECONDS", "give up on a call after SECONDS (default 30)"},
      {"help", "", "show the help of callsctl or of the command"},
  };
  return *specs;
}

const std::vector<OptionSpec>& CommandOptionSpecs() {
  static const auto* specs = new std::vector<OptionSpec>{
      {"token-file", "FILE",
       "read the token from FILE (trailing whitespace and newlines are stripped)"},
      {"token-stdin", "", "read the token from standard input"},
      {"session-token", "",
       "the token is a session token (it expires; renew it with refresh-token) rather than "
       "an access token"},
      {"keep-push-tokens", "", "leave this device's push tokens registered on the server"},
      {"unique", "", "remove the user's other tokens of this type on the server (all devices)"},
      {"video", "", "a video call (default: audio only)"},
      {"limit", "N", "show at most N calls (1 to 100; default 20)"},
      {"next", "CURSOR",
       "show the page that follows a previous answer (the cursor it printed)"},
      {"type", "small|large",
       "small: up to 6 participants, audio and video (the default); large: up to 20, audio "
       "only"},
      {"muted", "", "enter with this device's audio muted"},
  };
  return *specs;
}

const std::vector<CommandSpec>& CommandSpecs() {
  static const auto* specs = new std::vector<CommandSpec>{
      {Command::kStatus, "status", {}, "", "show the session state",
       "Shows the daemon's state: APP_ID, session state, user, token kind and expiry, the "
       "last error and the next retry. With --json, prints the State message.",
       {}},
      {Command::kInit, "init", {"APP_ID"}, "APP_ID", "set the APP_ID",
       "Initializes the daemon with APP_ID. The same APP_ID again changes nothing; a "
       "different APP_ID ends every call and clears the user, session, push tokens and logs "
       "of the old one.",
       {}},
      {Command::kLogin, "login", {"USER"}, "USER (--token-file FILE | --token-stdin) [--session-token]",
       "authenticate a user",
       "Authenticates USER with an access token (default) or a session token. The token "
       "is read from a file or from standard input, never from the command line, and is "
       "never printed. The daemon keeps the session and re-authenticates by itself after a "
       "restart.",
       {"token-file", "token-stdin", "session-token"}},
      {Command::kLogout, "logout", {}, "[--keep-push-tokens]", "end the session",
       "Ends the session: ends current calls, unregisters this device's push tokens (unless "
       "--keep-push-tokens) and forgets the user. What the server could not be told yet is "
       "retried in the background.",
       {"keep-push-tokens"}},
      {Command::kRefreshToken, "refresh-token", {}, "(--token-file FILE | --token-stdin)",
       "hand over a new session token",
       "Gives the daemon a new session token for the logged-in user (the answer to "
       "session_token_will_expire or session_token_required events).",
       {"token-file", "token-stdin"}},
      {Command::kWatch, "watch", {}, "", "print events as they happen",
       "Prints one line per event (time, sequence number, kind, details), starting with a "
       "snapshot of the state. With --json, prints one JSON object per line. Runs until "
       "Ctrl-C (exit status 0) or until the daemon ends the stream (exit status 1 when it "
       "ends with an error).",
       {}},
      {Command::kDial, "dial", {"USER"}, "USER [--video]", "call a user",
       "Calls USER: the daemon opens its connection to the calls server and dials. Prints the "
       "new call's id and state (DIALING, or RINGING once the callee's device rings); follow "
       "it with 'callsctl watch' or 'callsctl calls', and hang up with 'callsctl end CALL_ID'. "
       "With --json, prints the DialResponse.",
       {"video"}},
      {Command::kAccept, "accept", {"CALL_ID"}, "CALL_ID", "answer a ringing call",
       "Accepts the incoming call CALL_ID, which must be ringing (see 'callsctl calls'). When "
       "several apps answer the same call, the first accept or decline wins and the others "
       "fail. Prints the call's new state.",
       {}},
      {Command::kDecline, "decline", {"CALL_ID"}, "CALL_ID", "reject a ringing call",
       "Declines the incoming call CALL_ID, which must be ringing. The daemon declines with "
       "one request to the calls server and opens no WebSocket. Prints the call's state and "
       "end result.",
       {}},
      {Command::kEnd, "end", {"CALL_ID"}, "CALL_ID", "hang up a call",
       "Ends the call CALL_ID, whatever its state: hangs up an active call, cancels an "
       "outgoing one that is still dialing or ringing, declines an incoming one that rings. "
       "Prints the end result and the billed duration.",
       {}},
      {Command::kMute, "mute", {"CALL_ID"}, "CALL_ID", "mute this side of a call",
       "Mutes this side's audio in the call CALL_ID; the other side is told.", {}},
      {Command::kUnmute, "unmute", {"CALL_ID"}, "CALL_ID", "unmute this side of a call",
       "Unmutes this side's audio in the call CALL_ID; the other side is told.", {}},
      {Command::kCalls, "calls", {}, "", "list the ongoing and recent calls",
       "Lists the ongoing calls, then the ones that ended recently (newest first): call id, "
       "direction, peer, state, duration (billed from connected: running for a connected "
       "call, final for an ended one), end result and when it started. With --json, prints "
       "the ListCallsResponse.",
       {}},
      {Command::kHistory, "history", {}, "[--limit N] [--next CURSOR]", "show the call log",
       "Shows the user's call log from the calls server, newest first: when, direction (as "
       "seen by the logged-in user), peer, end result, duration and call id. When the server "
       "cannot be reached, the daemon's local copy is shown, with a note saying so. When there "
       "are more calls, prints the command for the next page. With --json, prints the "
       "GetCallHistoryResponse.",
       {"limit", "next"}},
      {Command::kPushRegister, "push register", {"TYPE", "URL"}, "voip|remote URL [--unique]",
       "register a push token",
       "Registers the push endpoint URL as this device's voip token (incoming calls) or "
       "remote token (other notifications). The daemon keeps it and sends it to the server "
       "now and after every authentication.",
       {"unique"}},
      {Command::kPushUnregister, "push unregister", {"TYPE", "URL"}, "voip|remote URL",
       "unregister a push token", "Unregisters the voip or remote push token URL.", {}},
      {Command::kPushUnregisterAll, "push unregister-all", {"TYPE"}, "voip|remote",
       "unregister all push tokens of a type",
       "Unregisters all of the user's voip (or remote) push tokens on the server, those of "
       "other devices included.",
       {}},
      {Command::kPushList, "push list", {}, "", "list the push tokens",
       "Lists this device's push tokens with their server state.", {}},
      {Command::kPushDeliver, "push deliver", {}, "< PAYLOAD", "hand a received push to the daemon",
       "Reads a push payload (JSON, at most 4096 bytes) from standard input, as a push "
       "distributor delivered it, and hands it to the daemon, which checks its signature, app, "
       "user and age. Trailing newlines and spaces are dropped. Prints what it did: 'rang' (a "
       "new incoming call rings), 'duplicate' (the call was already known), that the call has "
       "already ended, 'canceled' (a ringing call stopped) or 'missed'. A payload the daemon "
       "rejects exits with status 1 and its reason; an empty or oversized input exits with "
       "status 2 and is never echoed.",
       {}},
      {Command::kRoomCreate, "room create", {}, "[--type small|large]", "create a room",
       "Creates a room (a group call) on the calls server, owned by the logged-in user, and "
       "prints its id alone on a line (ROOM=$(callsctl room create)). No connection stays "
       "open: enter the room with 'callsctl room enter ROOM_ID'. With --json, prints the "
       "CreateRoomResponse.",
       {"type"}},
      {Command::kRoomEnter, "room enter", {"ROOM_ID"}, "ROOM_ID [--muted]", "enter a room",
       "Enters the room ROOM_ID: the daemon opens its connection to the calls server (or shares "
       "the one a call holds) and the other participants are told. A full room (6 participants "
       "in a small room, 20 in a large one), a deleted room or a room this device is already in "
       "is refused with the Calls code. Prints the room and its participant count.",
       {"muted"}},
      {Command::kRoomExit, "room exit", {"ROOM_ID"}, "ROOM_ID", "leave a room",
       "Exits the room ROOM_ID; the other participants are told. The daemon closes its "
       "connection to the calls server when no call or room is left.",
       {}},
      {Command::kRoomShow, "room show", {"ROOM_ID"}, "ROOM_ID", "show a room's participants",
       "Shows the room ROOM_ID as the calls server has it: type, owner, this device's state in "
       "it, then each participant with their audio (on or muted) and when they entered. With "
       "--json, prints the GetRoomResponse.",
       {}},
      {Command::kRoomList, "room list", {}, "", "list the rooms this device is in",
       "Lists the rooms this device is in (entered, or reconnecting): room id, type, state, "
       "participants, owner and this device's audio. With --json, prints the "
       "ListRoomsResponse.",
       {}},
      {Command::kRoomMute, "room mute", {"ROOM_ID"}, "ROOM_ID", "mute this device in a room",
       "Mutes this device's audio in the room ROOM_ID; the other participants are told.", {}},
      {Command::kRoomUnmute, "room unmute", {"ROOM_ID"}, "ROOM_ID",
       "unmute this device in a room",
       "Unmutes this device's audio in the room ROOM_ID; the other participants are told.", {}},
      {Command::kRoomDelete, "room delete", {"ROOM_ID"}, "ROOM_ID", "delete a room (owner only)",
       "Deletes the room ROOM_ID, which the logged-in user must own: every participant is out "
       "of it, and it cannot be entered again.",
       {}},
      {Command::kHelp, "help", {}, "[COMMAND]", "show help",
       "Shows the help of callsctl, or of COMMAND (e.g. callsctl help push register).", {}},
  };
  return *specs;
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& spec : CommandSpecs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const OptionSpec* FindOption(const std::vector<OptionSpec>& specs, absl::string_view name) {
  for (const OptionSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// A command group: "push register", "room enter", ... share a first word.
struct GroupSpec {
  absl::string_view name;
  absl::string_view description;  // Wrapped by hand, for `callsctl help GROUP`.
};

const std::vector<GroupSpec>& GroupSpecs() {
  static const auto* specs = new std::vector<GroupSpec>{
      {"push",
       "Manages this device's push tokens (push endpoint URLs) and hands\n"
       "received pushes to the daemon."},
      {"room",
       "Group calls: creates rooms, enters and leaves them, mutes this device\n"
       "in them and shows who is in them. The daemon's connection to the calls\n"
       "server is open while this device is in a room or a call."},
  };
  return *specs;
}

const GroupSpec* FindGroup(absl::string_view name) {
  for (const GroupSpec& group : GroupSpecs()) {
    if (group.name == name) return &group;
  }
  return nullptr;
}

// Whether `spec` is a subcommand of `group` ("push register" of "push").
bool InGroup(const CommandSpec& spec, const GroupSpec& group) {
  return absl::StartsWith(spec.name, group.name) && spec.name.size() > group.name.size() &&
         spec.name[group.name.size()] == ' ';
}

// "register, unregister, ..." for `group`.
std::string Subcommands(const GroupSpec& group) {
  std::vector<std::string> names;
  for (const CommandSpec& spec : CommandSpecs()) {
    if (InGroup(spec, group)) names.emplace_back(spec.name.substr(group.name.size() + 1));
  }
  return absl::StrJoin(names, ", ");
}

// Word-wraps `text` to kWidth columns; lines after the first are indented
// by `indent` spaces (the first line starts at column `first_column`).
constexpr size_t kWidth = 79;
std::string Wrap(absl::string_view text, size_t first_column, size_t indent) {
  std::string out;
  size_t column = first_column;
  bool line_start = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line_start && column + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      column = indent;
      line_start = true;
    }
    if (!line_start) {
      out.push_back(' ');
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
    line_start = false;
  }
  return out;
}

std::string OptionLabel(const OptionSpec& spec) {
  std::string label = absl::StrCat("--", spec.name);
  if (!spec.value_name.empty()) absl::StrAppend(&label, " ", spec.value_name);
  if (spec.name == "help") absl::StrAppend(&label, ", -h");
  return label;
}

void AppendOptionTable(std::string* out, const std::vector<const OptionSpec*>& options) {
  size_t width = 0;
  for (const OptionSpec* spec : options) width = std::max(width, OptionLabel(*spec).size());
  for (const OptionSpec* spec : options) {
    absl::StrAppendFormat(out, "  %-*s  %s\n", static_cast<int>(width), OptionLabel(*spec),
                          Wrap(spec->help, width + 4, width + 4));
  }
}

// GetCallHistoryRequest.limit: 1..100.
constexpr int kMaxHistoryLimit = 100;

constexpr absl::string_view kGlobalUsage =
    "usage: callsctl [--socket PATH] [--json] [--timeout SECONDS] COMMAND [ARGS]";

std::string OverviewHelp() {
  std::string out = absl::StrCat(
      kGlobalUsage, "\n\nControls callsd, the Calls session daemon, over its Unix socket.\n\n",
      "commands:\n");
  size_t width = 0;
  std::vector<std::pair<std::string, absl::string_view>> rows;
  for (const CommandSpec& spec : CommandSpecs()) {
    std::string left = std::string(spec.name);
    if (!spec.usage_args.empty() && spec.positionals.size() + spec.options.size() > 0) {
      // Show positionals only; options are in the command's help.
      std::vector<std::string> parts;
      for (absl::string_view p : spec.positionals) parts.emplace_back(p);
      if (!parts.empty()) absl::StrAppend(&left, " ", absl::StrJoin(parts, " "));
    } else if (spec.command == Command::kHelp) {
      absl::StrAppend(&left, " [COMMAND]");
    }
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), spec.summary);
  }
  for (const auto& [left, summary] : rows) {
    absl::StrAppendFormat(&out, "  %-*s  %s\n", static_cast<int>(width), left, summary);
  }
  absl::StrAppend(&out, "\nglobal options:\n");
  std::vector<const OptionSpec*> globals;
  for (const OptionSpec& spec : GlobalOptionSpecs()) globals.push_back(&spec);
  AppendOptionTable(&out, globals);
  absl::StrAppend(&out, "\n",
                  Wrap("Run 'callsctl help COMMAND' (or 'callsctl COMMAND --help') for a "
                       "command's arguments and options.",
                       0, 0),
                  "\n",
                  Wrap("Exit status: 0 success, 1 error from callsd or the connection, 2 usage "
                       "error.",
                       0, 0),
                  "\n");
  return out;
}

std::string GroupHelp(const GroupSpec& group) {
  std::string out = absl::StrCat("usage: callsctl ", group.name, " SUBCOMMAND [ARGS]\n\n",
                                 group.description, "\n\nsubcommands:\n");
  size_t width = 0;
  for (const CommandSpec& spec : CommandSpecs()) {
    if (!InGroup(spec, group)) continue;
    width = std::max(width, spec.name.size() + 1 + spec.usage_args.size());
  }
  for (const CommandSpec& spec : CommandSpecs()) {
    if (!InGroup(spec, group)) continue;
    std::string left = spec.usage_args.empty() ? std::string(spec.name)
                                               : absl::StrCat(spec.name, " ", spec.usage_args);
    absl::StrAppendFormat(&out, "  %-*s  %s\n", static_cast<int>(width), left, spec.summary);
  }
  absl::StrAppend(&out, "\nRun 'callsctl help ", group.name, " SUBCOMMAND' for details.\n");
  return out;
}

std::string UsageFooter(absl::string_view topic) {
  return absl::StrCat(UsageLine(topic), "\nRun 'callsctl help",
                      topic.empty() ? "" : absl::StrCat(" ", topic), "' for more.");
}

// Arguments sorted into words and options, before the command is known.
struct Scan {
  std::vector<std::string> words;
  std::vector<std::pair<const OptionSpec*, std::string>> options;  // Spec, value.
  bool help = false;
  std::string error;  // The first problem.
};

Scan ScanArgs(const std::vector<std::string>& args) {
  Scan scan;
  auto fail = [&scan](std::string message) {
    if (scan.error.empty()) scan.error = std::move(message);
  };
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      scan.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      scan.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      fail(absl::StrCat("unknown option '", arg, "'"));
      continue;
    }
    absl::string_view body = absl::string_view(arg).substr(2);
    std::optional<std::string> value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    const OptionSpec* spec = FindOption(GlobalOptionSpecs(), body);
    if (spec == nullptr) spec = FindOption(CommandOptionSpecs(), body);
    if (spec == nullptr) {
      fail(absl::StrCat("unknown option '--", body, "'"));
      continue;
    }
    if (spec->name == "help") {
      if (value.has_value()) fail("option '--help' takes no value");
      scan.help = true;
      continue;
    }
    if (spec->value_name.empty()) {
      if (value.has_value()) fail(absl::StrCat("option '--", spec->name, "' takes no value"));
      scan.options.emplace_back(spec, "");
      continue;
    }
    if (!value.has_value()) {
      if (i + 1 >= args.size()) {
        fail(absl::StrCat("option '--", spec->name, "' needs a value (", spec->value_name, ")"));
        continue;
      }
      value = args[++i];
    }
    scan.options.emplace_back(spec, *std::move(value));
  }
  return scan;
}

std::optional<callsd::v1::RoomType> ParseRoomType(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "small") return callsd::v1::ROOM_TYPE_SMALL;
  if (lower == "large") return callsd::v1::ROOM_TYPE_LARGE;
  return std::nullopt;
}

std::optional<callsd::v1::PushTokenType> ParsePushType(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "voip") return callsd::v1::PUSH_TOKEN_TYPE_VOIP;
  if (lower == "remote") return callsd::v1::PUSH_TOKEN_TYPE_REMOTE;
  return std::nullopt;
}

ParseResult Fail(absl::string_view topic, std::string message) {
  ParseResult result;
  result.error = topic.empty() ? std::move(message) : absl::StrCat(topic, ": ", message);
  result.usage = UsageFooter(topic);
  return result;
}

ParseResult Success(Invocation invocation) {
  ParseResult result;
  result.invocation = std::move(invocation);
  return result;
}

// Resolves the help topic named by `words` ("", "login", "push", "push
// register", "room"); nullopt when unknown.
std::optional<std::string> ResolveTopic(const std::vector<std::string>& words) {
  std::string topic = absl::StrJoin(words, " ");
  if (topic.empty() || FindGroup(topic) != nullptr || FindCommand(topic) != nullptr) return topic;
  return std::nullopt;
}

}  // namespace

std::string UsageLine(absl::string_view topic) {
  if (topic.empty()) return std::string(kGlobalUsage);
  if (const GroupSpec* group = FindGroup(topic)) {
    return absl::StrCat("usage: callsctl ", group->name, " SUBCOMMAND [ARGS] (SUBCOMMAND: ",
                        Subcommands(*group), ")");
  }
  const CommandSpec* spec = FindCommand(topic);
  if (spec == nullptr) return std::string(kGlobalUsage);
  return spec->usage_args.empty() ? absl::StrCat("usage: callsctl ", spec->name)
                                  : absl::StrCat("usage: callsctl ", spec->name, " ",
                                                 spec->usage_args);
}

std::string HelpText(absl::string_view topic) {
  if (const GroupSpec* group = FindGroup(topic)) return GroupHelp(*group);
  const CommandSpec* spec = topic.empty() ? nullptr : FindCommand(topic);
  if (spec == nullptr) return OverviewHelp();
  std::string out = absl::StrCat(UsageLine(topic), "\n\n", Wrap(spec->description, 0, 0), "\n");
  if (!spec->options.empty()) {
    absl::StrAppend(&out, "\noptions:\n");
    std::vector<const OptionSpec*> options;
    for (absl::string_view name : spec->options) {
      options.push_back(FindOption(CommandOptionSpecs(), name));
    }
    AppendOptionTable(&out, options);
  }
  if (spec->command != Command::kHelp) {
    absl::StrAppend(&out, "\n",
                    Wrap("Global options (--socket PATH, --json, --timeout SECONDS) apply too: "
                         "see 'callsctl help'.",
                         0, 0),
                    "\n");
  }
  return out;
}

ParseResult ParseArgs(const std::vector<std::string>& args) {
  Scan scan = ScanArgs(args);

  // Which command? A group ("push", "room") takes a subcommand word.
  const CommandSpec* spec = nullptr;
  std::string command_error;
  size_t command_words = 0;
  if (!scan.words.empty()) {
    const std::string& first = scan.words[0];
    if (const GroupSpec* group = FindGroup(first)) {
      const std::string group_name(group->name);
      if (scan.words.size() < 2) {
        if (scan.help) {
          Invocation help;
          help.name = "help";
          help.help_topic = group_name;
          return Success(std::move(help));
        }
        return Fail(group_name, absl::StrCat("missing SUBCOMMAND (", Subcommands(*group), ")"));
      }
      spec = FindCommand(absl::StrCat(group_name, " ", scan.words[1]));
      if (spec == nullptr) {
        return Fail(group_name, absl::StrCat("unknown subcommand '", scan.words[1], "' (",
                                             Subcommands(*group), ")"));
      }
      command_words = 2;
    } else {
      spec = FindCommand(first);
      if (spec == nullptr) command_error = absl::StrCat("unknown command '", first, "'");
      command_words = 1;
    }
  }
  const std::string topic = spec == nullptr ? "" : std::string(spec->name);

  if (scan.help && command_error.empty()) {
    Invocation help;
    help.name = "help";
    help.help_topic = topic;
    if (spec != nullptr && spec->command == Command::kHelp) {
      // "help login --help": the help of the topic.
      std::vector<std::string> rest(scan.words.begin() + 1, scan.words.end());
      help.help_topic = ResolveTopic(rest).value_or("");
    }
    return Success(std::move(help));
  }
  if (!scan.error.empty()) return Fail(topic, scan.error);
  if (!command_error.empty()) return Fail("", command_error);
  if (spec == nullptr) return Fail("", "missing COMMAND");

  Invocation inv;
  inv.command = spec->command;
  inv.name = std::string(spec->name);

  // Options: global ones anywhere; command ones only where they belong.
  for (const auto& [option, value] : scan.options) {
    const absl::string_view name = option->name;
    if (name == "socket") {
      if (value.empty()) return Fail(topic, "--socket needs a non-empty PATH");
      inv.global.socket_path = value;
    } else if (name == "json") {
      inv.global.json = true;
    } else if (name == "timeout") {
      double seconds = 0;
      if (!absl::SimpleAtod(value, &seconds) || !std::isfinite(seconds) || seconds <= 0) {
        return Fail(topic, absl::StrCat("--timeout needs a positive number of SECONDS, not '",
                                        value, "'"));
      }
      inv.global.timeout = absl::Seconds(seconds);
    } else if (std::find(spec->options.begin(), spec->options.end(), name) ==
               spec->options.end()) {
      return Fail(topic, absl::StrCat("unknown option '--", name, "'"));
    } else if (name == "token-file") {
      if (value.empty()) return Fail(topic, "--token-file needs a non-empty FILE");
      inv.token.file = value;
    } else if (name == "token-stdin") {
      inv.token.from_stdin = true;
    } else if (name == "session-token") {
      inv.session_token = true;
    } else if (name == "keep-push-tokens") {
      inv.keep_push_tokens = true;
    } else if (name == "unique") {
      inv.unique = true;
    } else if (name == "video") {
      inv.video = true;
    } else if (name == "limit") {
      int limit = 0;
      if (!absl::SimpleAtoi(value, &limit) || limit < 1 || limit > kMaxHistoryLimit) {
        return Fail(topic, absl::StrCat("--limit needs a number of calls from 1 to ",
                                        kMaxHistoryLimit, ", not '", value, "'"));
      }
      inv.history_limit = limit;
    } else if (name == "next") {
      if (value.empty()) return Fail(topic, "--next needs a non-empty CURSOR");
      inv.history_next = value;
    } else if (name == "type") {
      std::optional<callsd::v1::RoomType> type = ParseRoomType(value);
      if (!type.has_value()) {
        return Fail(topic, absl::StrCat("--type must be small or large, not '", value, "'"));
      }
      inv.room_type = *type;
    } else if (name == "muted") {
      inv.room_muted = true;
    }
  }

  // Positional arguments.
  std::vector<std::string> positionals(scan.words.begin() + command_words, scan.words.end());
  if (spec->command == Command::kHelp) {
    std::optional<std::string> help_topic = ResolveTopic(positionals);
    if (!help_topic.has_value()) {
      return Fail(topic, absl::StrCat("no such command '", absl::StrJoin(positionals, " "), "'"));
    }
    inv.help_topic = *help_topic;
    return Success(std::move(inv));
  }
  if (positionals.size() < spec->positionals.size()) {
    return Fail(topic, absl::StrCat("missing ", spec->positionals[positionals.size()]));
  }
  if (positionals.size() > spec->positionals.size()) {
    if (spec->command == Command::kLogin || spec->command == Command::kRefreshToken) {
      // It may be a token: never echo it.
      return Fail(topic,
                  "unexpected argument (a token is never accepted as an argument: use "
                  "--token-file FILE or --token-stdin)");
    }
    if (spec->command == Command::kPushDeliver) {
      // It may be the payload: not echoed either.
      return Fail(topic,
                  "unexpected argument (the payload is read from standard input: callsctl "
                  "push deliver < FILE)");
    }
    return Fail(topic, absl::StrCat("unexpected argument '",
                                    positionals[spec->positionals.size()], "'"));
  }
  for (size_t i = 0; i < positionals.size(); ++i) {
    if (positionals[i].empty()) {
      return Fail(topic, absl::StrCat(spec->positionals[i], " is empty"));
    }
  }

  switch (spec->command) {
    case Command::kInit:
      inv.app_id = positionals[0];
      break;
    case Command::kLogin:
      inv.user_id = positionals[0];
      [[fallthrough]];
    case Command::kRefreshToken:
      if (inv.token.file.empty() && !inv.token.from_stdin) {
        return Fail(topic,
                    "missing the token: give --token-file FILE or --token-stdin (a token is "
                    "never accepted as an argument)");
      }
      if (!inv.token.file.empty() && inv.token.from_stdin) {
        return Fail(topic, "give either --token-file or --token-stdin, not both");
      }
      break;
    case Command::kPushRegister:
    case Command::kPushUnregister:
    case Command::kPushUnregisterAll: {
      std::optional<callsd::v1::PushTokenType> type = ParsePushType(positionals[0]);
      if (!type.has_value()) {
        return Fail(topic,
                    absl::StrCat("TYPE must be voip or remote, not '", positionals[0], "'"));
      }
      inv.push_type = *type;
      if (positionals.size() > 1) inv.url = positionals[1];
      break;
    }
    case Command::kDial:
      inv.callee_id = positionals[0];
      break;
    case Command::kAccept:
    case Command::kDecline:
    case Command::kEnd:
    case Command::kMute:
    case Command::kUnmute:
      inv.call_id = positionals[0];
      break;
    case Command::kRoomEnter:
    case Command::kRoomExit:
    case Command::kRoomShow:
    case Command::kRoomMute:
    case Command::kRoomUnmute:
    case Command::kRoomDelete:
      inv.room_id = positionals[0];
      break;
    default:
      break;
  }
  return Success(std::move(inv));
}

}  // namespace callsd::ctl
