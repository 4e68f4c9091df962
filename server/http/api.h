// Api: the Calls REST API of calls-server (DESIGN.md "Wire protocol"),
// independent of any transport: a plain HttpRequest in, an HttpResponse out.
//
// Every answer is JSON made from the wire.proto messages. Success is HTTP 200
// with the message (an empty object "{}" where there is nothing to say).
// Failures are {"error": true, "code": N, "message": "..."}:
//   404 / 400200  no route for the path
//   405 / 400100  the path exists, not with this method (Allow header set)
//   413 / 400100  body over ApiOptions::max_body_bytes
//   401 / 401120  platform API: Api-Token missing or not any app's
//   400 / 400xxx  everything a client got wrong (codes in common/calls_error.h)
//   500 / 500901  the store failed (logged; the message says nothing more)
//
// Logs one line per request at VLOG(1): method, route pattern (never the
// path's values, which can hold a push token), status and Calls code.
#ifndef CALLSD_SERVER_HTTP_API_H_
#define CALLSD_SERVER_HTTP_API_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/scheduler.h"
#include "common/wire_json.h"
#include "server/app_registry.h"
#include "server/calls/call_router.h"
#include "server/calls/room_router.h"
#include "server/http/http_types.h"
#include "server/http/router.h"
#include "server/store/store.h"

namespace callsd::server {

struct ApiOptions {
  // Lifetime of a session token issued without expires_at.
  absl::Duration session_token_lifetime = absl::Hours(24 * 7);
  // Push tokens kept per user and type; registering one more evicts the
  // oldest.
  int max_push_tokens_per_type = 20;
  size_t max_body_bytes = kMaxJsonBytes;
};

class Api final : public HttpHandler {
 public:
  // `store`, `apps`, `clock`, `calls` and `rooms` must outlive the Api.
  // Without `calls`, POST /v1/calls/{call_id}/decline answers 500901;
  // without `rooms`, so do the /v1/rooms endpoints.
  Api(Store* store, const AppRegistry* apps, const Clock* clock, ApiOptions options = {},
      CallRouter* calls = nullptr, RoomRouter* rooms = nullptr);

  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Thread-safe, except POST /v1/calls/{call_id}/decline and /v1/rooms,
  // which call the CallRouter and RoomRouter and so must run on their
  // sequence (in calls-server the lws service thread runs all of them).
  HttpResponse Handle(const HttpRequest& request) override;

  // The live session of `session_key` within `app_id`'s app, or an ApiError:
  // 400111 either is empty, 400100 unknown app, 400302 unknown key (or one
  // of another app), 400310 its session token was revoked, 400309 expired.
  // Thread-safe. Also used for the WebSocket upgrade.
  absl::StatusOr<SessionKeyRecord> CheckSession(absl::string_view app_id,
                                                absl::string_view session_key);

 private:
  // A handler's outcome: the JSON body of a 200, or an ApiError.
  using Result = absl::StatusOr<std::string>;
  using Method = Result (Api::*)(const HttpRequest&, const PathParams&);

  void Route(const char* method, const char* pattern, Method handler);

  // Platform API (Api-Token), platform_api.cc.
  Result CreateUser(const HttpRequest& request, const PathParams& params);
  Result GetUser(const HttpRequest& request, const PathParams& params);
  Result DeleteUser(const HttpRequest& request, const PathParams& params);
  Result IssueSessionToken(const HttpRequest& request, const PathParams& params);
  Result RevokeSessionTokens(const HttpRequest& request, const PathParams& params);
  Result ListPushTokens(const HttpRequest& request, const PathParams& params);

  // Client API (App-Id, Session-Key), client_api.cc.
  Result Authenticate(const HttpRequest& request, const PathParams& params);
  Result EndSession(const HttpRequest& request, const PathParams& params);
  Result RegisterPushToken(const HttpRequest& request, const PathParams& params);
  Result UnregisterPushToken(const HttpRequest& request, const PathParams& params);
  Result UnregisterPushTokens(const HttpRequest& request, const PathParams& params);

  // Calls, calls_api.cc.
  Result ListCalls(const HttpRequest& request, const PathParams& params);
  Result DeclineCall(const HttpRequest& request, const PathParams& params);
  Result CallLogs(const HttpRequest& request, const PathParams& params);
  Result DirectCalls(const HttpRequest& request, const PathParams& params);
  // A page of `user`'s calls per the limit and next query parameters.
  Result CallPageOf(const UserRecord& user, const HttpRequest& request);

  // Rooms, rooms_api.cc.
  Result CreateRoom(const HttpRequest& request, const PathParams& params);
  Result GetRoom(const HttpRequest& request, const PathParams& params);

  // The app whose master token is in Api-Token; 401120 otherwise.
  absl::StatusOr<std::string> PlatformApp(const HttpRequest& request) const;
  // The platform app and the user named by the {user_id} path parameter;
  // 400200 when the app has no such user.
  absl::StatusOr<UserRecord> PlatformUser(const HttpRequest& request, const PathParams& params);
  // The app named by App-Id: 400111 when missing, 400100 when unknown.
  absl::StatusOr<std::string> ClientApp(const HttpRequest& request) const;
  // The live session of Session-Key within App-Id's app: 400111 missing,
  // 400302 unknown, 400310 its session token was revoked, 400309 expired.
  absl::StatusOr<SessionKeyRecord> RequireSession(const HttpRequest& request);

  int64_t NowMs() const { return absl::ToUnixMillis(clock_->Now()); }

  // Constant after construction.
  Store* const store_;
  const AppRegistry* const apps_;
  const Clock* const clock_;
  const ApiOptions options_;
  CallRouter* const calls_;
  RoomRouter* const rooms_;
  Router router_;
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_HTTP_API_H_
