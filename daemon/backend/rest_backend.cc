#include "daemon/backend/rest_backend.h"

#include <libwebsockets.h>

#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/calls_error.h"
#include "common/fault_point.h"
#include "common/net_util.h"
#include "common/wire_json.h"
#include "google/protobuf/struct.pb.h"
#include "wire/v1/wire.pb.h"

namespace callsd::daemon {
namespace {

namespace wire = ::callsd::wire::v1;

absl::Status Unavailable(absl::string_view what, absl::string_view problem) {
  return absl::UnavailableError(absl::StrCat(what, ": ", problem));
}

// OK for an empty body or any JSON object: an answer we do not read.
absl::Status CheckIgnoredBody(absl::string_view what, const HttpResponse& response) {
  if (absl::StripAsciiWhitespace(response.body).empty()) return absl::OkStatus();
  google::protobuf::Struct any_object;
  if (FromJson(response.body, &any_object).ok()) return absl::OkStatus();
  return Unavailable(what, absl::StrCat("calls server answered HTTP ", response.status,
                                        " with a body that is not a JSON object"));
}

// A JSON answer parsed into T; anything else is UNAVAILABLE naming `what`
// (never quoting the body).
template <typename T>
absl::StatusOr<T> ParseAnswer(absl::string_view what, const HttpResponse& response) {
  T answer;
  if (!FromJson(response.body, &answer).ok()) {
    return Unavailable(what, "the calls server answered with a body that is not the expected JSON");
  }
  return answer;
}

// A RoomInfo answer; one without a room id is not a room.
absl::StatusOr<wire::RoomInfo> ParseRoom(absl::string_view what, const HttpResponse& response) {
  absl::StatusOr<wire::RoomInfo> room = ParseAnswer<wire::RoomInfo>(what, response);
  if (room.ok() && room->room_id().empty()) {
    return Unavailable(what, "the calls server answered with a room without a room_id");
  }
  return room;
}

absl::StatusOr<AuthResult> ToAuthResult(absl::string_view what, const std::string& user_id,
                                        const HttpResponse& response) {
  wire::AuthResponse answer;
  // FromJson's message may quote the body, which holds the session key: say
  // only what was wrong.
  if (!FromJson(response.body, &answer).ok()) {
    return Unavailable(what, absl::StrCat("calls server answered HTTP ", response.status,
                                          " with a body that is not a JSON AuthResponse"));
  }
  if (answer.session_key().empty()) {
    return Unavailable(what, "calls server answered without a session key");
  }
  AuthResult result;
  result.session_key = answer.session_key();
  if (answer.expires_at() != 0) result.expires_at = absl::FromUnixMillis(answer.expires_at());
  result.user_id = answer.user().user_id().empty() ? user_id : answer.user().user_id();
  result.nickname = answer.user().nickname();
  result.push_key = answer.push_key();
  return result;
}

}  // namespace

absl::StatusOr<HttpResponse> InterpretResponse(absl::string_view what,
                                               absl::StatusOr<HttpResponse> response) {
  if (!response.ok()) {
    const absl::Status& status = response.status();
    if (status.code() == absl::StatusCode::kInvalidArgument) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", status.message()));
    }
    if (status.code() == absl::StatusCode::kDeadlineExceeded) {
      return Unavailable(what, absl::StrCat("calls server did not answer in time (",
                                            status.message(), ")"));
    }
    return Unavailable(what, status.message());
  }
  const int http_status = response->status;
  wire::Error error;
  if (FromJson(response->body, &error).ok() && error.error()) {
    if (error.code() == 0) {
      return Unavailable(what, absl::StrCat("calls server answered HTTP ", http_status,
                                            " with an error without a code: ", error.message()));
    }
    const std::string message = error.message().empty()
                                    ? absl::StrCat("calls server error ", error.code())
                                    : error.message();
    return CallsError(StatusCodeForServerCode(error.code()), error.code(), message);
  }
  if (http_status >= 200 && http_status < 300) return response;
  if (http_status >= 500) {
    return Unavailable(what, absl::StrCat("calls server answered HTTP ", http_status,
                                          " without an error body"));
  }
  if (http_status >= 400) {
    return Unavailable(what, absl::StrCat("calls server answered HTTP ", http_status,
                                          " without an error body (is the server URL that of a "
                                          "calls server?)"));
  }
  return Unavailable(what, absl::StrCat("calls server answered HTTP ", http_status,
                                        ", which is not an answer of a calls server"));
}

absl::StatusOr<std::unique_ptr<RestBackend>> RestBackend::Create(HttpClient* http,
                                                                 Scheduler* engine,
                                                                 Options options) {
  absl::StatusOr<Url> url = ParseUrl(options.base_url);
  if (!url.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("calls server URL: ", url.status().message()));
  }
  if (url->scheme != "http" && url->scheme != "https") {
    return absl::InvalidArgumentError("calls server URL: the scheme must be http or https");
  }
  if (absl::StrContains(options.base_url, '?') || absl::StrContains(options.base_url, '#')) {
    return absl::InvalidArgumentError("calls server URL: must not have a query or fragment");
  }
  if (options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("request timeout must be positive");
  }
  std::string base(absl::StripSuffix(options.base_url, "/"));
  return absl::WrapUnique(new RestBackend(http, engine, std::move(base), options.request_timeout));
}

RestBackend::RestBackend(HttpClient* http, Scheduler* engine, std::string base_url,
                         absl::Duration timeout)
    : http_(http), engine_(engine), base_url_(std::move(base_url)), timeout_(timeout) {}

template <typename T>
void RestBackend::Send(Call call, Parser<T> parse, Callback<T> done) {
  HttpRequest request;
  request.method = call.method;
  request.url = base_url_ + call.path;
  request.headers.emplace_back("App-Id", std::move(call.app_id));
  if (!call.session_key.empty()) {
    request.headers.emplace_back("Session-Key", std::move(call.session_key));
  }
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  request.body = std::move(call.body);
  request.timeout = timeout_;
  // Captures no `this`: the answer may come after the RestBackend is gone.
  FaultPoint("rest.send");
  http_->Send(std::move(request), [engine = engine_, what = std::move(call.what),
                                   parse = std::move(parse), done = std::move(done)](
                                      absl::StatusOr<HttpResponse> response) mutable {
    absl::StatusOr<HttpResponse> checked = InterpretResponse(what, std::move(response));
    absl::StatusOr<T> result =
        checked.ok() ? std::move(parse)(*checked) : absl::StatusOr<T>(checked.status());
    engine->Post([done = std::move(done), result = std::move(result)]() mutable {
      FaultPoint("rest.answer");
      std::move(done)(std::move(result));
    });
  });
}

void RestBackend::SendForStatus(Call call, StatusCallback done) {
  std::string what = call.what;
  Send<bool>(
      std::move(call),
      [what = std::move(what)](const HttpResponse& response) -> absl::StatusOr<bool> {
        absl::Status status = CheckIgnoredBody(what, response);
        if (!status.ok()) return status;
        return true;
      },
      [done = std::move(done)](absl::StatusOr<bool> result) mutable {
        std::move(done)(result.status());
      });
}

void RestBackend::Reject(absl::Status status, StatusCallback done) {
  engine_->Post([done = std::move(done), status = std::move(status)]() mutable {
    std::move(done)(std::move(status));
  });
}

void RestBackend::Authenticate(const std::string& app_id, const std::string& user_id,
                               const std::string& token, Callback<AuthResult> done) {
  wire::AuthRequest body;
  body.set_user_id(user_id);
  body.set_access_token(token);
  Call call{"POST", "/v1/auth", "POST /v1/auth", app_id, "", ToJson(body)};
  Send<AuthResult>(
      std::move(call),
      [user_id](const HttpResponse& answer) {
        return ToAuthResult("POST /v1/auth", user_id, answer);
      },
      std::move(done));
}

void RestBackend::EndSession(const SessionCredentials& creds, StatusCallback done) {
  SendForStatus({"DELETE", "/v1/auth", "DELETE /v1/auth", creds.app_id, creds.session_key, ""},
                std::move(done));
}

void RestBackend::RegisterPushToken(const SessionCredentials& creds, PushType type,
                                    const std::string& token, bool unique,
                                    StatusCallback done) {
  const std::string path = absl::StrCat("/v1/push/", PushTypeName(type));
  wire::RegisterPushTokenRequest body;
  body.set_token(token);
  body.set_unique(unique);
  SendForStatus({"POST", path, "POST " + path, creds.app_id, creds.session_key, ToJson(body)},
                std::move(done));
}

void RestBackend::UnregisterPushToken(const SessionCredentials& creds, PushType type,
                                      const std::string& token, StatusCallback done) {
  const std::string path = absl::StrCat("/v1/push/", PushTypeName(type));
  const std::string what = absl::StrCat("DELETE ", path, "/{token}");
  if (token.empty() || absl::StrContains(token, '\0')) {
    // An empty segment would address DELETE /v1/push/{type}: all tokens.
    Reject(absl::InvalidArgumentError(absl::StrCat(what, ": the push token is empty or has a NUL")),
           std::move(done));
    return;
  }
  SendForStatus({"DELETE", absl::StrCat(path, "/", EncodePathSegment(token)), what, creds.app_id,
                 creds.session_key, ""},
                std::move(done));
}

void RestBackend::UnregisterAllPushTokens(const SessionCredentials& creds, PushType type,
                                          StatusCallback done) {
  const std::string path = absl::StrCat("/v1/push/", PushTypeName(type));
  SendForStatus({"DELETE", path, "DELETE " + path, creds.app_id, creds.session_key, ""},
                std::move(done));
}

void RestBackend::ListRingingCalls(const SessionCredentials& creds,
                                   Callback<std::vector<wire::CallInfo>> done) {
  const std::string what = "GET /v1/calls?state=ringing";
  Send<std::vector<wire::CallInfo>>(
      {"GET", "/v1/calls?state=ringing", what, creds.app_id, creds.session_key, ""},
      [what](const HttpResponse& response) -> absl::StatusOr<std::vector<wire::CallInfo>> {
        absl::StatusOr<wire::CallList> list = ParseAnswer<wire::CallList>(what, response);
        if (!list.ok()) return list.status();
        return std::vector<wire::CallInfo>(list->calls().begin(), list->calls().end());
      },
      std::move(done));
}

void RestBackend::DeclineCall(const SessionCredentials& creds, const std::string& call_id,
                              StatusCallback done) {
  if (call_id.empty()) {
    return Reject(absl::InvalidArgumentError("decline: empty call id"), std::move(done));
  }
  const std::string path = absl::StrCat("/v1/calls/", EncodePathSegment(call_id), "/decline");
  SendForStatus({"POST", path, "POST /v1/calls/{call_id}/decline", creds.app_id,
                 creds.session_key, ""},
                std::move(done));
}

void RestBackend::ListCallLogs(const SessionCredentials& creds, int limit,
                               const std::string& next, Callback<wire::CallList> done) {
  std::string path = absl::StrCat("/v1/call_logs?limit=", limit);
  if (!next.empty()) absl::StrAppend(&path, "&next=", EncodePathSegment(next));
  const std::string what = "GET /v1/call_logs";
  Send<wire::CallList>(
      {"GET", path, what, creds.app_id, creds.session_key, ""},
      [what](const HttpResponse& response) { return ParseAnswer<wire::CallList>(what, response); },
      std::move(done));
}

void RestBackend::CreateRoom(const SessionCredentials& creds, const std::string& type,
                             Callback<wire::RoomInfo> done) {
  // The request body is a RoomInfo with only its type: {"type": "small"}.
  wire::RoomInfo body;
  body.set_type(type);
  const std::string what = "POST /v1/rooms";
  Send<wire::RoomInfo>(
      {"POST", "/v1/rooms", what, creds.app_id, creds.session_key, ToJson(body)},
      [what](const HttpResponse& response) { return ParseRoom(what, response); },
      std::move(done));
}

void RestBackend::GetRoom(const SessionCredentials& creds, const std::string& room_id,
                          Callback<wire::RoomInfo> done) {
  const std::string what = "GET /v1/rooms/{room_id}";
  if (room_id.empty() || absl::StrContains(room_id, '\0')) {
    // An empty segment would address the collection, not a room.
    engine_->Post([done = std::move(done), what]() mutable {
      std::move(done)(absl::InvalidArgumentError(
          absl::StrCat(what, ": the room id is empty or has a NUL")));
    });
    return;
  }
  Send<wire::RoomInfo>(
      {"GET", absl::StrCat("/v1/rooms/", EncodePathSegment(room_id)), what, creds.app_id,
       creds.session_key, ""},
      [what](const HttpResponse& response) { return ParseRoom(what, response); },
      std::move(done));
}

std::string EncodePathSegment(const std::string& segment) {
  // lws_urlencode escapes every byte but [A-Za-z0-9] as %XX, except the
  // space, which it writes as '+' (form encoding). A literal '+' comes out
  // as %2B, so every '+' in its output is a space: make those %20, which a
  // path needs. It stops at a NUL (callers reject those) and needs room for
  // three bytes per input byte plus its own margin.
  std::vector<char> escaped(segment.size() * 3 + 8);
  lws_urlencode(escaped.data(), segment.c_str(), static_cast<int>(escaped.size()));
  return absl::StrReplaceAll(escaped.data(), {{"+", "%20"}});
}

}  // namespace callsd::daemon
