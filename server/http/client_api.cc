// Api: the client (SDK) endpoints, scoped by App-Id and, after
// authentication, by Session-Key.
#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "common/status_macros.h"
#include "server/http/api.h"
#include "server/http/api_util.h"
#include "server/http/validation.h"

namespace callsd::server {
namespace {

absl::StatusOr<PushType> PushTypeParam(const PathParams& params) {
  std::optional<PushType> type = ParsePushType(params.at("type"));
  if (!type) return ApiError(kCodeInvalidParams, "type: must be voip or remote");
  return *type;
}

absl::Status InvalidAccessToken() {
  return ApiError(kCodeInvalidAccessToken, "invalid user_id or access_token");
}

}  // namespace

// POST /v1/auth {user_id, access_token} -> AuthResponse
Api::Result Api::Authenticate(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const std::string app, ClientApp(request));
  ASSIGN_OR_RETURN(const wire::v1::AuthRequest body, ParseBody<wire::v1::AuthRequest>(request));
  if (body.user_id().empty()) return ApiError(kCodeMissingParams, "user_id is required");
  if (body.access_token().empty()) return ApiError(kCodeMissingParams, "access_token is required");

  absl::StatusOr<UserRecord> user = store_->GetUser(app, body.user_id());
  if (absl::IsNotFound(user.status())) return InvalidAccessToken();
  RETURN_IF_ERROR(user.status());

  const int64_t now = NowMs();
  const std::string token_hash = Sha256Hex(body.access_token());
  std::optional<int64_t> session_token_id;
  int64_t expires_at = 0;
  ASSIGN_OR_RETURN(const bool is_access_token, store_->HasAccessToken(user->rowid, token_hash));
  if (!is_access_token) {
    absl::StatusOr<SessionTokenRecord> session_token =
        store_->FindSessionToken(user->rowid, token_hash);
    if (absl::IsNotFound(session_token.status())) return InvalidAccessToken();
    RETURN_IF_ERROR(session_token.status());
    if (session_token->revoked) {
      return ApiError(kCodeSessionTokenRevoked, "session token revoked");
    }
    if (session_token->expires_at_ms <= now) {
      return ApiError(kCodeSessionKeyExpired, "session token expired");
    }
    session_token_id = session_token->id;
    expires_at = session_token->expires_at_ms;
  }

  const std::string session_key = RandomToken();
  RETURN_IF_ERROR(
      store_->AddSessionKey(Sha256Hex(session_key), user->rowid, session_token_id, expires_at, now));
  wire::v1::AuthResponse out;
  out.set_session_key(session_key);
  out.set_expires_at(expires_at);
  *out.mutable_user() = ToWireUser(*user);
  out.set_push_key(user->push_key);
  return ToJson(out);
}

// DELETE /v1/auth (Session-Key) -> {}
Api::Result Api::EndSession(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const std::string app, ClientApp(request));
  absl::string_view key = request.Header("session-key");
  if (key.empty()) return ApiError(kCodeMissingParams, "Session-Key header is missing");
  const std::string key_hash = Sha256Hex(key);
  // An expired or revoked session can still be ended.
  absl::StatusOr<SessionKeyRecord> session = store_->FindSessionKey(key_hash);
  if (absl::IsNotFound(session.status()) || (session.ok() && session->user.app_id != app)) {
    return ApiError(kCodeInvalidAccessToken, "invalid session key");
  }
  RETURN_IF_ERROR(session.status());
  absl::Status status = store_->DeleteSessionKey(key_hash);
  if (!status.ok() && !absl::IsNotFound(status)) return status;
  return EmptyJson();
}

// POST /v1/push/{type} {token, unique} -> RegisterPushTokenResponse
Api::Result Api::RegisterPushToken(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const SessionKeyRecord session, RequireSession(request));
  ASSIGN_OR_RETURN(const PushType type, PushTypeParam(params));
  ASSIGN_OR_RETURN(const wire::v1::RegisterPushTokenRequest body,
                   ParseBody<wire::v1::RegisterPushTokenRequest>(request));
  RETURN_IF_ERROR(ValidatePushToken(body.token()));
  ASSIGN_OR_RETURN(const int removed,
                   store_->RegisterPushToken(session.user, type, body.token(), body.unique(),
                                             options_.max_push_tokens_per_type, NowMs()));
  wire::v1::RegisterPushTokenResponse out;
  out.set_type(PushTypeName(type));
  out.set_token(body.token());
  out.set_removed(removed);
  return ToJson(out);
}

// DELETE /v1/push/{type}/{token} -> {} (also when the token was not registered)
Api::Result Api::UnregisterPushToken(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const SessionKeyRecord session, RequireSession(request));
  ASSIGN_OR_RETURN(const PushType type, PushTypeParam(params));
  const std::string token = RestorePathDecodedPushToken(params.at("token"));
  RETURN_IF_ERROR(store_->UnregisterPushToken(session.user.rowid, type, token).status());
  return EmptyJson();
}

// DELETE /v1/push/{type} -> {}
Api::Result Api::UnregisterPushTokens(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const SessionKeyRecord session, RequireSession(request));
  ASSIGN_OR_RETURN(const PushType type, PushTypeParam(params));
  RETURN_IF_ERROR(store_->UnregisterPushTokens(session.user.rowid, type).status());
  return EmptyJson();
}

}  // namespace callsd::server
