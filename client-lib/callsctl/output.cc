#include "client-lib/callsctl/output.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "common/calls_error.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "callsd/client.h"
#include "google/protobuf/util/json_util.h"

namespace callsd::ctl {
namespace {

namespace v1 = ::callsd::v1;

constexpr char kAbsoluteFormat[] = "%Y-%m-%d %H:%M:%S %Z";
constexpr char kTableTimeFormat[] = "%Y-%m-%d %H:%M:%S";
constexpr char kEventTimeFormat[] = "%Y-%m-%d %H:%M:%E3S";

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string StripPrefix(const std::string& name, absl::string_view prefix, int number) {
  if (name.empty()) return absl::StrCat(number);
  if (absl::StartsWith(name, prefix)) return name.substr(prefix.size());
  return name;
}

bool HasError(const v1::ErrorInfo& info) {
  return info.calls_code() != 0 || !info.message().empty();
}

// "voip REGISTERED, remote PENDING".
std::string TokenSummary(const google::protobuf::RepeatedPtrField<v1::PushToken>& tokens) {
  std::vector<std::string> parts;
  for (const v1::PushToken& token : tokens) {
    parts.push_back(
        absl::StrCat(PushTypeName(token.type()), " ", PushStateName(token.server_state())));
  }
  return absl::StrJoin(parts, ", ");
}

std::string UserText(const v1::User& user) {
  if (user.nickname().empty() || user.nickname() == user.user_id()) return user.user_id();
  return absl::StrCat(user.user_id(), " (", user.nickname(), ")");
}

// Aligned columns separated by two spaces; the last column is not padded.
// Each line starts with `indent` and ends with a newline.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows,
                        absl::string_view indent = "") {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size()) {
        absl::StrAppend(&line, row[i]);
      } else {
        absl::StrAppendFormat(&line, "%-*s  ", static_cast<int>(widths[i]), row[i]);
      }
    }
    absl::StripTrailingAsciiWhitespace(&line);
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

// "call=ID peer=USER" for event lines.
std::string CallAndPeer(const v1::Call& call) {
  return absl::StrCat("call=", call.call_id(), " peer=", CallPeerId(call));
}

std::string DurationText(const v1::Call& call, absl::Time now) {
  std::optional<absl::Duration> duration = CallDuration(call, now);
  return duration.has_value() ? FormatCallDuration(*duration) : "-";
}

// The rows of a calls table (header first); END RESULT only when asked.
std::vector<std::vector<std::string>> CallRows(
    const google::protobuf::RepeatedPtrField<v1::Call>& calls, bool with_end_result,
    const TimeContext& tc) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"CALL ID", "DIRECTION", "PEER", "STATE", "DURATION"});
  if (with_end_result) rows.back().push_back("END RESULT");
  rows.back().push_back("STARTED");
  for (const v1::Call& call : calls) {
    std::string peer = call.has_peer() && !call.peer().user_id().empty() ? UserText(call.peer())
                                                                          : CallPeerId(call);
    if (call.video()) absl::StrAppend(&peer, " [video]");
    rows.push_back({call.call_id(), CallDirectionName(call.direction()), peer,
                    CallStateName(call.state()), DurationText(call, tc.now)});
    if (with_end_result) rows.back().push_back(EndResultName(call.end_result()));
    rows.back().push_back(call.has_started_at() ? FormatRelative(ToTime(call.started_at()), tc.now)
                                                : "-");
  }
  return rows;
}

// "2/6": participants of a room and its limit (when known).
std::string ParticipantCount(const v1::Room& room) {
  if (room.max_participants() <= 0) return absl::StrCat(room.participants_size());
  return absl::StrCat(room.participants_size(), "/", room.max_participants());
}

std::string AudioText(bool muted) { return muted ? "muted" : "on"; }

// The rows of a rooms table (header first).
std::vector<std::vector<std::string>> RoomRows(
    const google::protobuf::RepeatedPtrField<v1::Room>& rooms) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ROOM ID", "TYPE", "STATE", "PARTICIPANTS", "OWNER", "AUDIO"});
  for (const v1::Room& room : rooms) {
    rows.push_back({room.room_id(), RoomTypeName(room.type()), RoomStateName(room.state()),
                    ParticipantCount(room), room.owner_id().empty() ? "-" : room.owner_id(),
                    AudioText(room.muted())});
  }
  return rows;
}

// "room=R" for event lines; " user=U" follows for a participant's events.
std::string RoomField(const v1::Room& room) { return absl::StrCat("room=", room.room_id()); }

std::string RoomAndUser(const v1::RoomParticipantEvent& event) {
  return absl::StrCat(RoomField(event.room()), " user=", event.participant().user().user_id());
}

// " reason: ..." when `event` says why the room was left.
std::string RoomReason(const v1::RoomEvent& event) {
  if (!event.has_reason() || !HasError(event.reason())) return "";
  return absl::StrCat(" reason: ", FormatErrorInfo(event.reason()));
}

// What to do about the room errors (their Calls codes: wire.proto).

std::string RoomHint(int calls_code) {
  switch (calls_code) {
    case kCodeParticipantLimitReached:
      return "the room is full (a small room holds 6 participants, a large one 20): wait until "
             "someone exits, or create a large room with 'callsctl room create --type large'";
    case kCodeRoomDeleted:
      return "the room was deleted by its owner; create a new one with 'callsctl room create'";
    case kCodeAlreadyInRoom:
      return "this device is already in the room (see 'callsctl room list')";
    case kCodeNotInRoom:
      return "this device is not in the room; enter it first with 'callsctl room enter ROOM_ID'";
    case kCodeNotAllowed:
      return "only the room's owner may delete it";
    case kCodeNotFound:
      return "no room has this id: check it, or create one with 'callsctl room create'";
    default:
      return "";
  }
}

// Quotes `word` for a POSIX shell when it needs it.
std::string ShellWord(const std::string& word) {
  bool plain = !word.empty();
  for (char c : word) {
    plain &= absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
             absl::string_view("-_.,:/=+@%").find(c) != absl::string_view::npos;
  }
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      absl::StrAppend(&quoted, "'\\''");
    } else {
      quoted.push_back(c);
    }
  }
  return absl::StrCat(quoted, "'");
}

}  // namespace

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  options.always_print_enums_as_ints = false;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print ", message.GetTypeName(),
                                            " as JSON: ", status.ToString()));
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string SessionStateName(v1::SessionState state) {
  return StripPrefix(v1::SessionState_Name(state), "SESSION_STATE_", state);
}

std::string TokenKindName(v1::TokenKind kind) {
  return StripPrefix(v1::TokenKind_Name(kind), "TOKEN_KIND_", kind);
}

std::string PushTypeName(v1::PushTokenType type) {
  return absl::AsciiStrToLower(StripPrefix(v1::PushTokenType_Name(type), "PUSH_TOKEN_TYPE_", type));
}

std::string PushStateName(v1::PushTokenServerState state) {
  return StripPrefix(v1::PushTokenServerState_Name(state), "PUSH_TOKEN_SERVER_STATE_", state);
}

std::string CallStateName(v1::CallState state) {
  if (state == v1::CALL_STATE_UNSPECIFIED) return "-";
  return StripPrefix(v1::CallState_Name(state), "CALL_STATE_", state);
}

std::string EndResultName(v1::EndResult result) {
  if (result == v1::END_RESULT_UNSPECIFIED) return "-";
  return absl::AsciiStrToLower(StripPrefix(v1::EndResult_Name(result), "END_RESULT_", result));
}

std::string CallDirectionName(v1::CallDirection direction) {
  if (direction == v1::CALL_DIRECTION_UNSPECIFIED) return "-";
  return absl::AsciiStrToLower(
      StripPrefix(v1::CallDirection_Name(direction), "CALL_DIRECTION_", direction));
}

std::string RoomTypeName(v1::RoomType type) {
  if (type == v1::ROOM_TYPE_UNSPECIFIED) return "-";
  return absl::AsciiStrToLower(StripPrefix(v1::RoomType_Name(type), "ROOM_TYPE_", type));
}

std::string RoomStateName(v1::RoomState state) {
  if (state == v1::ROOM_STATE_UNSPECIFIED) return "-";
  return StripPrefix(v1::RoomState_Name(state), "ROOM_STATE_", state);
}

std::string FormatCallDuration(absl::Duration duration) {
  const int64_t total = std::max<int64_t>(0, absl::ToInt64Seconds(duration));
  const int64_t hours = total / 3600;
  const int64_t minutes = (total % 3600) / 60;
  const int64_t seconds = total % 60;
  if (hours > 0) return absl::StrFormat("%d:%02d:%02d", hours, minutes, seconds);
  return absl::StrFormat("%d:%02d", minutes, seconds);
}

std::optional<absl::Duration> CallDuration(const v1::Call& call, absl::Time now) {
  // A log entry may carry its end without the state.
  const bool ended = call.state() == v1::CALL_STATE_ENDED || call.has_ended_at() ||
                     call.end_result() != v1::END_RESULT_UNSPECIFIED;
  if (ended) {
    if (call.duration_ms() > 0) return absl::Milliseconds(call.duration_ms());
    if (call.has_connected_at() && call.has_ended_at()) {
      return std::max(absl::ZeroDuration(), ToTime(call.ended_at()) - ToTime(call.connected_at()));
    }
    if (call.has_connected_at()) return absl::ZeroDuration();
    return std::nullopt;
  }
  if (call.has_connected_at()) {
    return std::max(absl::ZeroDuration(), now - ToTime(call.connected_at()));
  }
  if (call.duration_ms() > 0) return absl::Milliseconds(call.duration_ms());
  return std::nullopt;
}

std::string CallPeerId(const v1::Call& call) {
  if (!call.peer().user_id().empty()) return call.peer().user_id();
  const v1::User& other =
      call.direction() == v1::CALL_DIRECTION_OUTGOING ? call.callee() : call.caller();
  if (call.direction() != v1::CALL_DIRECTION_UNSPECIFIED && !other.user_id().empty()) {
    return other.user_id();
  }
  return "?";
}

UserView ViewOf(const v1::Call& call, absl::string_view user_id) {
  UserView view;
  if (!user_id.empty() && call.caller().user_id() == user_id) {
    view.direction = v1::CALL_DIRECTION_OUTGOING;
    view.peer = call.callee();
  } else if (!user_id.empty() && call.callee().user_id() == user_id) {
    view.direction = v1::CALL_DIRECTION_INCOMING;
    view.peer = call.caller();
  } else {
    view.direction = call.direction();
    view.peer = call.peer();
    if (view.peer.user_id().empty()) view.peer.set_user_id(CallPeerId(call));
  }
  return view;
}

std::string FormatRelative(absl::Time t, absl::Time now) {
  absl::Duration d = t - now;
  const bool future = d > absl::ZeroDuration();
  d = absl::AbsDuration(d);
  if (d < absl::Seconds(1)) return "now";
  int64_t s = absl::ToInt64Seconds(d);
  const int64_t units[] = {s / 86400, (s % 86400) / 3600, (s % 3600) / 60, s % 60};
  const char* names[] = {"d", "h", "m", "s"};
  std::string text;
  for (int i = 0; i < 4; ++i) {
    if (units[i] == 0) continue;
    text = absl::StrCat(units[i], names[i]);
    if (i < 3 && units[i + 1] != 0) absl::StrAppend(&text, " ", units[i + 1], names[i + 1]);
    break;
  }
  return future ? absl::StrCat("in ", text) : absl::StrCat(text, " ago");
}

std::string FormatTimeWithRelative(absl::Time t, const TimeContext& tc) {
  return absl::StrCat(absl::FormatTime(kAbsoluteFormat, t, tc.zone), " (",
                      FormatRelative(t, tc.now), ")");
}

std::string FormatErrorInfo(const v1::ErrorInfo& info) {
  if (info.calls_code() == 0) return info.message();
  if (info.message().empty()) return absl::StrCat("Calls code ", info.calls_code());
  return absl::StrCat(info.message(), " (Calls code ", info.calls_code(), ")");
}

std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size() + 1);
  std::string out;
  for (const auto& [key, value] : rows) {
    absl::StrAppendFormat(&out, "%-*s %s\n", static_cast<int>(width), absl::StrCat(key, ":"),
                          value);
  }
  return out;
}

std::string FormatState(const v1::State& state, const TimeContext& tc) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("app id", state.app_id().empty() ? "(none)" : state.app_id());
  rows.emplace_back("state", SessionStateName(state.session_state()));
  if (state.has_user() && !state.user().user_id().empty()) {
    rows.emplace_back("user", UserText(state.user()));
  }
  if (state.token_kind() != v1::TOKEN_KIND_UNSPECIFIED) {
    rows.emplace_back("token kind", TokenKindName(state.token_kind()));
  }
  if (state.has_token_expires_at()) {
    rows.emplace_back("token expires", FormatTimeWithRelative(ToTime(state.token_expires_at()), tc));
  }
  if (state.has_last_error() && HasError(state.last_error())) {
    rows.emplace_back("last error", FormatErrorInfo(state.last_error()));
  }
  if (state.has_next_retry_at()) {
    rows.emplace_back("next retry", FormatTimeWithRelative(ToTime(state.next_retry_at()), tc));
  }
  rows.emplace_back("push tokens", state.push_tokens().empty()
                                       ? "none"
                                       : TokenSummary(state.push_tokens()));
  if (!state.push_endpoint_url().empty()) {
    rows.emplace_back("push endpoint", state.push_endpoint_url());
  }
  rows.emplace_back("event seq", absl::StrCat(state.event_seq()));
  if (!state.daemon_version().empty()) rows.emplace_back("daemon", state.daemon_version());
  std::string out = FormatKeyValues(rows);
  if (!state.calls().empty()) {
    absl::StrAppend(&out, "calls:\n",
                    FormatTable(CallRows(state.calls(), /*with_end_result=*/false, tc), "  "));
  }
  if (!state.rooms().empty()) {
    absl::StrAppend(&out, "rooms:\n", FormatTable(RoomRows(state.rooms()), "  "));
  }
  return out;
}

std::string FormatEvent(const v1::Event& event, const TimeContext& tc) {
  const absl::Time time = event.has_time() ? ToTime(event.time()) : tc.now;
  std::string kind;
  std::string details;
  switch (event.kind_case()) {
    case v1::Event::kSnapshot: {
      const v1::State& s = event.snapshot();
      kind = "snapshot";
      details = absl::StrCat("app=", s.app_id().empty() ? "(none)" : s.app_id(),
                             " state=", SessionStateName(s.session_state()));
      if (!s.user().user_id().empty()) absl::StrAppend(&details, " user=", s.user().user_id());
      if (s.has_token_expires_at()) {
        absl::StrAppend(&details, " token_expires=",
                        absl::FormatTime(kAbsoluteFormat, ToTime(s.token_expires_at()), tc.zone));
      }
      if (!s.push_tokens().empty()) {
        absl::StrAppend(&details, " push_tokens=", s.push_tokens_size());
      }
      if (!s.calls().empty()) absl::StrAppend(&details, " calls=", s.calls_size());
      if (!s.rooms().empty()) absl::StrAppend(&details, " rooms=", s.rooms_size());
      break;
    }
    case v1::Event::kSessionStateChanged: {
      const v1::SessionStateChanged& c = event.session_state_changed();
      kind = "session_state_changed";
      details = absl::StrCat(SessionStateName(c.previous()), " -> ", SessionStateName(c.state()));
      if (!c.user().user_id().empty()) absl::StrAppend(&details, " user=", c.user().user_id());
      if (c.has_reason() && HasError(c.reason())) {
        absl::StrAppend(&details, " reason: ", FormatErrorInfo(c.reason()));
      }
      break;
    }
    case v1::Event::kSessionTokenWillExpire: {
      kind = "session_token_will_expire";
      const absl::Time expires = ToTime(event.session_token_will_expire().expires_at());
      details = absl::StrCat("expires ", absl::FormatTime(kAbsoluteFormat, expires, tc.zone),
                             " (", FormatRelative(expires, time), ")");
      break;
    }
    case v1::Event::kSessionTokenRequired: {
      kind = "session_token_required";
      const v1::ErrorInfo& reason = event.session_token_required().reason();
      details = HasError(reason) ? absl::StrCat("reason: ", FormatErrorInfo(reason))
                                 : "run callsctl refresh-token";
      break;
    }
    case v1::Event::kAppChanged: {
      const v1::AppChanged& c = event.app_changed();
      kind = "app_changed";
      details = absl::StrCat(c.previous_app_id().empty() ? "(none)" : c.previous_app_id(), " -> ",
                             c.app_id());
      break;
    }
    case v1::Event::kPushTokensChanged: {
      const auto& tokens = event.push_tokens_changed().tokens();
      kind = "push_tokens_changed";
      details = tokens.empty() ? "no tokens"
                               : absl::StrCat(tokens.size(), tokens.size() == 1 ? " token: " : " tokens: ",
                                              TokenSummary(tokens));
      break;
    }
    case v1::Event::kRinging: {
      const v1::Call& call = event.ringing().call();
      kind = "ringing";
      details = absl::StrCat("call=", call.call_id(), " from=",
                             call.caller().user_id().empty() ? CallPeerId(call)
                                                             : call.caller().user_id(),
                             " video=", YesNo(call.video()));
      break;
    }
    case v1::Event::kDialing: {
      const v1::Call& call = event.dialing().call();
      kind = "dialing";
      details = absl::StrCat("call=", call.call_id(), " to=",
                             call.callee().user_id().empty() ? CallPeerId(call)
                                                             : call.callee().user_id(),
                             " video=", YesNo(call.video()));
      break;
    }
    case v1::Event::kRemoteRinging: {
      const v1::Call& call = event.remote_ringing().call();
      kind = "remote_ringing";
      details = absl::StrCat("call=", call.call_id(), " to=",
                             call.callee().user_id().empty() ? CallPeerId(call)
                                                             : call.callee().user_id());
      break;
    }
    case v1::Event::kEstablished:
      kind = "established";
      details = CallAndPeer(event.established().call());
      break;
    case v1::Event::kConnected:
      kind = "connected";
      details = CallAndPeer(event.connected().call());
      break;
    case v1::Event::kReconnecting:
      kind = "reconnecting";
      details = CallAndPeer(event.reconnecting().call());
      break;
    case v1::Event::kReconnected:
      kind = "reconnected";
      details = CallAndPeer(event.reconnected().call());
      break;
    case v1::Event::kEnded: {
      const v1::Call& call = event.ended().call();
      kind = "ended";
      details = absl::StrCat("call=", call.call_id(), " result=", EndResultName(call.end_result()));
      if (std::optional<absl::Duration> d = CallDuration(call, time); d.has_value()) {
        absl::StrAppend(&details, " duration=", FormatCallDuration(*d));
      }
      if (!call.ended_by().empty()) absl::StrAppend(&details, " by=", call.ended_by());
      break;
    }
    case v1::Event::kRemoteAudioChanged: {
      const v1::RemoteAudioChanged& c = event.remote_audio_changed();
      kind = "remote_audio_changed";
      details = absl::StrCat(CallAndPeer(c.call()), " muted=", YesNo(c.muted()));
      break;
    }
    case v1::Event::kLocalAudioChanged: {
      const v1::Call& call = event.local_audio_changed().call();
      kind = "local_audio_changed";
      details = absl::StrCat("call=", call.call_id(), " muted=", YesNo(call.muted()));
      break;
    }
    case v1::Event::kPushForEndedCall: {
      const v1::PushForEndedCall& p = event.push_for_ended_call();
      kind = "push_for_ended_call";
      details = absl::StrCat("call=", p.call_id(), " push=",
                             p.push_type().empty() ? "?" : p.push_type());
      if (p.has_call() && p.call().end_result() != v1::END_RESULT_UNSPECIFIED) {
        absl::StrAppend(&details, " result=", EndResultName(p.call().end_result()));
      }
      break;
    }
    case v1::Event::kRoomEntered: {
      const v1::Room& room = event.room_entered().room();
      kind = "room_entered";
      details = absl::StrCat(RoomField(room), " type=", RoomTypeName(room.type()),
                             " participants=", ParticipantCount(room), " muted=",
                             YesNo(room.muted()));
      break;
    }
    case v1::Event::kRoomExited:
      kind = "room_exited";
      details = absl::StrCat(RoomField(event.room_exited().room()),
                             RoomReason(event.room_exited()));
      break;
    case v1::Event::kParticipantEntered:
      kind = "participant_entered";
      details = absl::StrCat(RoomAndUser(event.participant_entered()), " muted=",
                             YesNo(event.participant_entered().participant().muted()));
      break;
    case v1::Event::kParticipantExited:
      kind = "participant_exited";
      details = RoomAndUser(event.participant_exited());
      break;
    case v1::Event::kRoomAudioChanged:
      kind = "room_audio_changed";
      details = absl::StrCat(RoomAndUser(event.room_audio_changed()), " muted=",
                             YesNo(event.room_audio_changed().participant().muted()));
      break;
    case v1::Event::kRoomDeleted:
      kind = "room_deleted";
      details = RoomField(event.room_deleted().room());
      break;
    case v1::Event::kRoomReconnecting:
      kind = "room_reconnecting";
      details = RoomField(event.room_reconnecting().room());
      break;
    case v1::Event::kRoomReconnected:
      kind = "room_reconnected";
      details = RoomField(event.room_reconnected().room());
      break;
    case v1::Event::kLocalParticipantDisconnected:
      kind = "local_participant_disconnected";
      details = absl::StrCat(RoomField(event.local_participant_disconnected().room()),
                             RoomReason(event.local_participant_disconnected()));
      break;
    case v1::Event::KIND_NOT_SET:
      kind = "unknown";
      details = "(an event this callsctl does not know; try --json)";
      break;
  }
  return absl::StrCat(absl::FormatTime(kEventTimeFormat, time, tc.zone), "  #", event.seq(), "  ",
                      kind, "  ", details);
}

std::string FormatPushTokens(const v1::ListPushTokensResponse& response, const TimeContext& tc) {
  std::string out;
  if (response.tokens().empty()) {
    out = "no push tokens\n";
  } else {
    // The ERROR column only when some token has an error.
    bool any_error = false;
    for (const v1::PushToken& token : response.tokens()) any_error |= HasError(token.error());
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"TYPE", "STATE", "UPDATED", "TOKEN"});
    if (any_error) rows.back().push_back("ERROR");
    for (const v1::PushToken& token : response.tokens()) {
      rows.push_back({PushTypeName(token.type()), PushStateName(token.server_state()),
                      token.has_updated_at()
                          ? absl::FormatTime(kTableTimeFormat, ToTime(token.updated_at()), tc.zone)
                          : "-",
                      token.token()});
      if (any_error) {
        rows.back().push_back(HasError(token.error()) ? FormatErrorInfo(token.error()) : "");
      }
    }
    out = FormatTable(rows);
  }
  if (response.pending_unregistrations() > 0) {
    absl::StrAppend(&out, response.pending_unregistrations(),
                    response.pending_unregistrations() == 1 ? " unregistration" : " unregistrations",
                    " not yet confirmed by the server (retried in the background)\n");
  }
  return out;
}

std::string FormatCalls(const v1::ListCallsResponse& response, const TimeContext& tc) {
  if (response.calls().empty()) return "no calls\n";
  return FormatTable(CallRows(response.calls(), /*with_end_result=*/true, tc));
}

std::string FormatRoom(const v1::Room& room, const TimeContext& tc) {
  std::vector<std::pair<std::string, std::string>> facts;
  facts.emplace_back("room", room.room_id());
  std::string type = RoomTypeName(room.type());
  if (room.type() == v1::ROOM_TYPE_LARGE) absl::StrAppend(&type, " (audio only)");
  facts.emplace_back("type", type);
  facts.emplace_back("owner", room.owner_id().empty() ? "-" : room.owner_id());
  facts.emplace_back("this device", room.state() == v1::ROOM_STATE_UNSPECIFIED ||
                                            room.state() == v1::ROOM_STATE_EXITED
                                        ? "not in the room"
                                        : absl::StrCat(RoomStateName(room.state()), ", audio ",
                                                       AudioText(room.muted())));
  facts.emplace_back("participants",
                     room.max_participants() > 0
                         ? absl::StrCat(room.participants_size(), " of ", room.max_participants())
                         : absl::StrCat(room.participants_size()));
  std::string out = FormatKeyValues(facts);
  if (room.participants().empty()) return absl::StrCat(out, "no participants\n");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"USER", "AUDIO", "ENTERED"});
  for (const v1::RoomParticipant& participant : room.participants()) {
    rows.push_back({UserText(participant.user()), AudioText(participant.muted()),
                    participant.has_entered_at()
                        ? FormatRelative(ToTime(participant.entered_at()), tc.now)
                        : "-"});
  }
  return absl::StrCat(out, FormatTable(rows));
}

std::string FormatRooms(const v1::ListRoomsResponse& response) {
  if (response.rooms().empty()) return "not in any room\n";
  return FormatTable(RoomRows(response.rooms()));
}

std::string FormatCallHistory(const v1::GetCallHistoryResponse& response,
                              absl::string_view user_id, int limit, const TimeContext& tc) {
  std::string out;
  if (response.calls().empty()) {
    out = "no calls in the history\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"TIME", "DIRECTION", "PEER", "END RESULT", "DURATION", "CALL ID"});
    for (const v1::Call& call : response.calls()) {
      UserView view = ViewOf(call, user_id);
      v1::EndResult result = call.end_result();
      // The server logs the caller's view of the two results that differ by
      // side: the caller's no_answer is the callee's timed_out.
      if (view.direction == v1::CALL_DIRECTION_INCOMING && result == v1::END_RESULT_NO_ANSWER) {
        result = v1::END_RESULT_TIMED_OUT;
      }
      std::string peer = view.peer.user_id().empty() ? "?" : UserText(view.peer);
      if (call.video()) absl::StrAppend(&peer, " [video]");
      rows.push_back({call.has_started_at()
                          ? absl::FormatTime(kTableTimeFormat, ToTime(call.started_at()), tc.zone)
                          : "-",
                      CallDirectionName(view.direction), peer, EndResultName(result),
                      DurationText(call, tc.now), call.call_id()});
    }
    out = FormatTable(rows);
  }
  if (response.from_cache()) {
    absl::StrAppend(&out, "(from the local cache: the server could not be reached)\n");
  }
  if (!response.next().empty()) {
    absl::StrAppend(&out, "next page: callsctl history ",
                    limit > 0 ? absl::StrCat("--limit ", limit, " ") : "", "--next ",
                    ShellWord(response.next()), "\n");
  }
  return out;
}

std::string FormatPushOutcome(const v1::DeliverPushResponse& response) {
  const v1::Call& call = response.call();
  const std::string id = call.call_id().empty() ? "?" : call.call_id();
  const std::string& caller_id = call.caller().user_id();
  const std::string from = caller_id.empty() ? "" : absl::StrCat(" from ", caller_id);
  switch (response.outcome()) {
    case v1::DeliverPushResponse::OUTCOME_RANG:
      return absl::StrCat("rang: call ", id, from, call.video() ? " (video)" : "");
    case v1::DeliverPushResponse::OUTCOME_DUPLICATE:
      return absl::StrCat("duplicate: call ", id, " is already known (no second ring)");
    case v1::DeliverPushResponse::OUTCOME_CALL_ENDED:
      return absl::StrCat("call ", id, " has already ended",
                          call.end_result() == v1::END_RESULT_UNSPECIFIED
                              ? ""
                              : absl::StrCat(" (", EndResultName(call.end_result()), ")"),
                          ": no ring");
    case v1::DeliverPushResponse::OUTCOME_CANCELED:
      return absl::StrCat("canceled: call ", id, from, " stopped ringing");
    case v1::DeliverPushResponse::OUTCOME_MISSED:
      return absl::StrCat("missed: call ", id, from);
    default:
      return absl::StrCat("delivered (outcome ", static_cast<int>(response.outcome()), ")");
  }
}

std::string FormatCommandError(absl::string_view command, const absl::Status& status) {
  std::optional<v1::ErrorInfo> info = client::GetErrorInfo(status);
  std::string message(status.message());
  if (message.empty()) message = absl::StatusCodeToString(status.code());
  std::string out = absl::StrCat("callsctl: ", command, ": ", message);
  if (info.has_value() && info->calls_code() != 0) {
    absl::StrAppend(&out, " (Calls code ", info->calls_code(), ")");
  }
  absl::StrAppend(&out, "\n");
  if (info.has_value()) {
    if (!info->field().empty()) absl::StrAppend(&out, "field: ", info->field(), "\n");
    if (!info->tier().empty()) absl::StrAppend(&out, "needs the ", info->tier(), " tier\n");
    std::string hint = info->hint();
    if (hint.empty() && absl::StartsWith(command, "room ")) hint = RoomHint(info->calls_code());
    if (!hint.empty()) absl::StrAppend(&out, "hint: ", hint, "\n");
  }
  return out;
}

}  // namespace callsd::ctl
