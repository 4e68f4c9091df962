#include "client-lib/callsctl/output.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
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
  rows.emplace_back("event seq", absl::StrCat(state.event_seq()));
  if (!state.daemon_version().empty()) rows.emplace_back("daemon", state.daemon_version());
  return FormatKeyValues(rows);
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
    std::vector<size_t> widths(rows.front().size(), 0);
    for (const auto& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows) {
      std::string line;
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
  }
  if (response.pending_unregistrations() > 0) {
    absl::StrAppend(&out, response.pending_unregistrations(),
                    response.pending_unregistrations() == 1 ? " unregistration" : " unregistrations",
                    " not yet confirmed by the server (retried in the background)\n");
  }
  return out;
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
    if (!info->hint().empty()) absl::StrAppend(&out, "hint: ", info->hint(), "\n");
  }
  return out;
}

}  // namespace callsd::ctl
