// RestBackend: the Backend over the calls server's client (SDK) REST API
// (DESIGN.md "Wire protocol"), through an HttpClient.
//
// Every request carries "App-Id", "Content-Type: application/json" and,
// once authenticated, "Session-Key"; bodies are wire/v1 messages as JSON
// (common/wire_json.h). Results reach `done` through Scheduler::Post on the
// engine, never inline.
//
// Outcomes, in addition to backend.h's:
//   OK                 a 2xx whose body parses as the expected answer (an
//                      empty body is fine where no answer is expected);
//   <server's code>    a body {"error": true, "code": N, "message": M}, with
//                      any HTTP status: StatusCodeForServerCode(N), Calls
//                      code N attached, message M;
//   UNAVAILABLE        transport errors and timeouts, a 5xx or 4xx without
//                      such a body, a 2xx that is not the expected JSON, a
//                      3xx; the message names the request ("POST /v1/auth:
//                      ...") and what went wrong;
//   INVALID_ARGUMENT   the request could not be formed (an empty push token,
//                      a control character in a header value); nothing sent.
// Messages never contain tokens, session keys or push keys: a push token's
// path shows as "/v1/push/voip/{token}".
#ifndef CALLSD_DAEMON_BACKEND_REST_BACKEND_H_
#define CALLSD_DAEMON_BACKEND_REST_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_client.h"
#include "common/scheduler.h"
#include "daemon/backend/backend.h"

namespace callsd::daemon {

class RestBackend final : public Backend {
 public:
  struct Options {
    // The calls server: "https://calls.example.com", or with a path prefix
    // ("https://example.com/calls"). Plain http is up to the HttpClient.
    std::string base_url;
    // Per request, from sending to the complete answer.
    absl::Duration request_timeout = absl::Seconds(15);
  };

  // INVALID_ARGUMENT for a base URL that is not an absolute http(s) URL
  // without query, or a timeout that is not positive. Neither `http` nor
  // `engine` is owned. Requests in flight never touch the RestBackend
  // itself, so it may go first; `engine` must outlive `http` (whose
  // destruction completes every request, through the engine).
  static absl::StatusOr<std::unique_ptr<RestBackend>> Create(HttpClient* http, Scheduler* engine,
                                                             Options options);

  // Backend. Thread-safe; `done` runs on `engine`.
  void Authenticate(const std::string& app_id, const std::string& user_id,
                    const std::string& token, Callback<AuthResult> done) override;
  void EndSession(const SessionCredentials& creds, StatusCallback done) override;
  void RegisterPushToken(const SessionCredentials& creds, PushType type,
                         const std::string& token, bool unique, StatusCallback done) override;
  void UnregisterPushToken(const SessionCredentials& creds, PushType type,
                           const std::string& token, StatusCallback done) override;
  void UnregisterAllPushTokens(const SessionCredentials& creds, PushType type,
                               StatusCallback done) override;
  void ListRingingCalls(const SessionCredentials& creds,
                        Callback<std::vector<wire::v1::CallInfo>> done) override;
  void DeclineCall(const SessionCredentials& creds, const std::string& call_id,
                   StatusCallback done) override;
  void ListCallLogs(const SessionCredentials& creds, int limit, const std::string& next,
                    Callback<wire::v1::CallList> done) override;
  void CreateRoom(const SessionCredentials& creds, const std::string& type,
                  Callback<wire::v1::RoomInfo> done) override;
  void GetRoom(const SessionCredentials& creds, const std::string& room_id,
               Callback<wire::v1::RoomInfo> done) override;

 private:
  // Checks an answer's body on the HTTP client's thread; its result goes to
  // the engine.
  template <typename T>
  using Parser = absl::AnyInvocable<absl::StatusOr<T>(const HttpResponse& response) &&>;

  struct Call {
    const char* method;
    std::string path;  // appended to the base URL
    std::string what;  // "POST /v1/auth", for messages; never holds a secret
    std::string app_id;
    std::string session_key;  // empty: not sent
    std::string body;
  };

  RestBackend(HttpClient* http, Scheduler* engine, std::string base_url,
              absl::Duration timeout);

  template <typename T>
  void Send(Call call, Parser<T> parse, Callback<T> done);
  void SendForStatus(Call call, StatusCallback done);
  void Reject(absl::Status status, StatusCallback done);

  // Constant after construction.
  HttpClient* const http_;
  Scheduler* const engine_;
  const std::string base_url_;  // without a trailing '/'
  const absl::Duration timeout_;
};

// The HTTP outcome of `what` ("POST /v1/auth") as the calls server meant it:
// the response when it is a 2xx without an error body, else the status the
// contract above gives. Shared by every request (and the REST calls to come:
// ringing calls, decline, call logs).
absl::StatusOr<HttpResponse> InterpretResponse(absl::string_view what,
                                               absl::StatusOr<HttpResponse> response);

// `segment` percent-encoded for a URL path (every byte but [A-Za-z0-9]).
std::string EncodePathSegment(const std::string& segment);

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_BACKEND_REST_BACKEND_H_
