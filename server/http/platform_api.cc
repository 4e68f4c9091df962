// Api: the platform (admin) endpoints, authorised by the app's Api-Token.
#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "common/status_macros.h"
#include "server/http/api.h"
#include "server/http/api_util.h"
#include "server/http/validation.h"

namespace callsd::server {

constexpr size_t kPushKeyBytes = 32;

// POST /v1/users {user_id, nickname?, issue_access_token?} -> User
Api::Result Api::CreateUser(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const std::string app, PlatformApp(request));
  ASSIGN_OR_RETURN(const wire::v1::CreateUserRequest body,
                   ParseBody<wire::v1::CreateUserRequest>(request));
  RETURN_IF_ERROR(ValidateUserId("user_id", body.user_id()));
  RETURN_IF_ERROR(ValidateNickname(body.nickname()));

  std::string access_token;
  if (body.issue_access_token()) access_token = RandomToken();
  absl::StatusOr<UserRecord> user =
      store_->CreateUser(app, body.user_id(), body.nickname(), RandomBytes(kPushKeyBytes),
                         access_token.empty() ? "" : Sha256Hex(access_token), NowMs());
  if (absl::IsAlreadyExists(user.status())) {
    return ApiError(kCodeAlreadyExists,
                    absl::StrCat("user_id: user ", body.user_id(), " already exists"));
  }
  RETURN_IF_ERROR(user.status());
  wire::v1::User out = ToWireUser(*user);
  out.set_access_token(access_token);
  return ToJson(out);
}

// GET /v1/users/{user_id} -> User
Api::Result Api::GetUser(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const UserRecord user, PlatformUser(request, params));
  return ToJson(ToWireUser(user));
}

// DELETE /v1/users/{user_id} -> {}
Api::Result Api::DeleteUser(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const std::string app, PlatformApp(request));
  const std::string& user_id = params.at("user_id");
  absl::Status status = store_->DeleteUser(app, user_id);
  if (absl::IsNotFound(status)) {
    return ApiError(kCodeNotFound, absl::StrCat("user ", user_id, " not found"));
  }
  RETURN_IF_ERROR(status);
  return EmptyJson();
}

// POST /v1/users/{user_id}/token {expires_at?} -> SessionToken
Api::Result Api::IssueSessionToken(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const UserRecord user, PlatformUser(request, params));
  ASSIGN_OR_RETURN(const wire::v1::IssueSessionTokenRequest body,
                   ParseBody<wire::v1::IssueSessionTokenRequest>(request));
  const int64_t now = NowMs();
  int64_t expires_at = body.expires_at();
  if (expires_at == 0) {
    expires_at = now + absl::ToInt64Milliseconds(options_.session_token_lifetime);
  } else if (expires_at <= now) {
    return ApiError(kCodeInvalidParams,
                    absl::StrCat("expires_at: ", expires_at, " is not in the future (now is ",
                                 now, ", Unix milliseconds)"));
  }
  const std::string token = RandomToken();
  RETURN_IF_ERROR(store_->AddSessionToken(user.rowid, Sha256Hex(token), expires_at, now).status());
  wire::v1::SessionToken out;
  out.set_token(token);
  out.set_expires_at(expires_at);
  return ToJson(out);
}

// DELETE /v1/users/{user_id}/token -> {}
Api::Result Api::RevokeSessionTokens(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const UserRecord user, PlatformUser(request, params));
  RETURN_IF_ERROR(store_->RevokeSessionTokens(user.rowid).status());
  return EmptyJson();
}

// GET /v1/users/{user_id}/push -> PushTokenList
Api::Result Api::ListPushTokens(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const UserRecord user, PlatformUser(request, params));
  ASSIGN_OR_RETURN(const std::vector<PushTokenRecord> tokens, store_->ListPushTokens(user.rowid));
  wire::v1::PushTokenList out;
  for (const PushTokenRecord& token : tokens) {
    wire::v1::PushTokenInfo* info = out.add_tokens();
    info->set_type(PushTypeName(token.type));
    info->set_token(token.token);
    info->set_registered_at(token.registered_at_ms);
  }
  return ToJson(out);
}

}  // namespace callsd::server
