#include "server/http/api.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "glog/logging.h"
#include "server/http/api_util.h"
#include "server/http/errors.h"

namespace callsd::server {
namespace {

constexpr absl::string_view kApiToken = "api-token";
constexpr absl::string_view kAppId = "app-id";
constexpr absl::string_view kSessionKey = "session-key";

// The Calls code of an error body, for the request log.
int CodeOf(const HttpResponse& response) {
  if (response.http_status == 200) return 0;
  wire::v1::Error error;
  return FromJson(response.body, &error).ok() ? error.code() : 0;
}

}  // namespace

Api::Api(Store* store, const AppRegistry* apps, const Clock* clock, ApiOptions options,
         CallRouter* calls, RoomRouter* rooms)
    : store_(store),
      apps_(apps),
      clock_(clock),
      options_(std::move(options)),
      calls_(calls),
      rooms_(rooms) {
  // Platform API.
  Route("POST", "/v1/users", &Api::CreateUser);
  Route("GET", "/v1/users/{user_id}", &Api::GetUser);
  Route("DELETE", "/v1/users/{user_id}", &Api::DeleteUser);
  Route("POST", "/v1/users/{user_id}/token", &Api::IssueSessionToken);
  Route("DELETE", "/v1/users/{user_id}/token", &Api::RevokeSessionTokens);
  Route("GET", "/v1/users/{user_id}/push", &Api::ListPushTokens);
  // Client API.
  Route("POST", "/v1/auth", &Api::Authenticate);
  Route("DELETE", "/v1/auth", &Api::EndSession);
  Route("POST", "/v1/push/{type}", &Api::RegisterPushToken);
  Route("DELETE", "/v1/push/{type}", &Api::UnregisterPushTokens);
  Route("DELETE", "/v1/push/{type}/{token...}", &Api::UnregisterPushToken);
  Route("GET", "/v1/calls", &Api::ListCalls);
  Route("POST", "/v1/calls/{call_id}/decline", &Api::DeclineCall);
  Route("GET", "/v1/call_logs", &Api::CallLogs);
  Route("POST", "/v1/rooms", &Api::CreateRoom);
  Route("GET", "/v1/rooms/{room_id}", &Api::GetRoom);
  // Platform API.
  Route("GET", "/v1/direct_calls", &Api::DirectCalls);
}

void Api::Route(const char* method, const char* pattern, Method handler) {
  router_.Add(method, pattern,
              [this, handler](const HttpRequest& request, const PathParams& params) {
                Result result = (this->*handler)(request, params);
                if (!result.ok()) return ErrorResponse(result.status());
                HttpResponse response;
                response.body = *std::move(result);
                return response;
              });
}

HttpResponse Api::Handle(const HttpRequest& request) {
  Router::Match match = router_.Find(request.method, request.path);
  HttpResponse response;
  if (request.body.size() > options_.max_body_bytes) {
    response = BodyTooLargeResponse(request.body.size(), options_.max_body_bytes);
  } else if (match.kind == Router::Match::kNotFound) {
    response = ErrorResponse(404, kCodeNotFound, "no such endpoint");
  } else if (match.kind == Router::Match::kMethodNotAllowed) {
    const std::string allowed = absl::StrJoin(match.allowed, ", ");
    response = ErrorResponse(
        405, kCodeInvalidParams,
        absl::StrCat("method ", request.method, " is not allowed here; allowed: ", allowed));
    response.headers.emplace_back("allow", allowed);
  } else {
    response = (*match.handler)(request, match.params);
  }
  VLOG(1) << request.method << " "
          << (match.kind == Router::Match::kNotFound ? "(no route)" : match.pattern) << " -> "
          << response.http_status << " " << CodeOf(response);
  return response;
}

absl::StatusOr<std::string> Api::PlatformApp(const HttpRequest& request) const {
  absl::string_view token = request.Header(kApiToken);
  std::optional<std::string> app = token.empty() ? std::nullopt : apps_->FindByToken(token);
  if (!app) {
    return ApiError(kCodeNotAllowed, token.empty() ? "Api-Token header is missing"
                                                   : "Api-Token is not valid for any app");
  }
  return *app;
}

absl::StatusOr<UserRecord> Api::PlatformUser(const HttpRequest& request,
                                             const PathParams& params) {
  absl::StatusOr<std::string> app = PlatformApp(request);
  if (!app.ok()) return app.status();
  const std::string& user_id = params.at("user_id");
  absl::StatusOr<UserRecord> user = store_->GetUser(*app, user_id);
  if (absl::IsNotFound(user.status())) {
    return ApiError(kCodeNotFound, absl::StrCat("user ", user_id, " not found"));
  }
  return user;
}

absl::StatusOr<std::string> Api::ClientApp(const HttpRequest& request) const {
  absl::string_view app_id = request.Header(kAppId);
  if (app_id.empty()) return ApiError(kCodeMissingParams, "App-Id header is missing");
  if (!apps_->Contains(app_id)) {
    return ApiError(kCodeInvalidParams, absl::StrCat("App-Id: unknown app \"", app_id, "\""));
  }
  return std::string(app_id);
}

absl::StatusOr<SessionKeyRecord> Api::RequireSession(const HttpRequest& request) {
  absl::StatusOr<std::string> app = ClientApp(request);
  if (!app.ok()) return app.status();
  absl::string_view key = request.Header(kSessionKey);
  if (key.empty()) return ApiError(kCodeMissingParams, "Session-Key header is missing");
  return CheckSession(*app, key);
}

absl::StatusOr<SessionKeyRecord> Api::CheckSession(absl::string_view app_id,
                                                   absl::string_view session_key) {
  if (app_id.empty()) return ApiError(kCodeMissingParams, "App-Id header is missing");
  if (!apps_->Contains(app_id)) {
    return ApiError(kCodeInvalidParams, absl::StrCat("App-Id: unknown app \"", app_id, "\""));
  }
  if (session_key.empty()) return ApiError(kCodeMissingParams, "Session-Key header is missing");
  absl::StatusOr<SessionKeyRecord> session = store_->FindSessionKey(Sha256Hex(session_key));
  if (absl::IsNotFound(session.status()) || (session.ok() && session->user.app_id != app_id)) {
    return ApiError(kCodeInvalidAccessToken, "invalid session key");
  }
  if (!session.ok()) return session.status();
  if (session->token_revoked) {
    return ApiError(kCodeSessionTokenRevoked,
                    "the session token of this session key has been revoked");
  }
  if (session->expires_at_ms != 0 && session->expires_at_ms <= NowMs()) {
    return ApiError(kCodeSessionKeyExpired, "session key expired");
  }
  return session;
}

}  // namespace callsd::server
