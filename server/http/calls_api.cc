// Api: direct calls over REST (the WebSocket carries the rest, see
// server/calls/call_router.h).
//
//   GET  /v1/calls?state=ringing          (client) CallList: calls ringing with
//                                         the requester as callee, oldest first
//                                         (state may be left out; any other
//                                         value is 400100)
//   POST /v1/calls/{call_id}/decline      (client) CallInfo of the declined call
//   GET  /v1/call_logs?limit=&next=       (client) CallList: the requester's
//                                         calls, newest first
//   GET  /v1/direct_calls?user_id=&limit=&next=
//                                         (platform) the same for any user of
//                                         the app; 400111 without user_id,
//                                         400200 no such user
//
// Call logs hold every call of the user, as caller or callee, in any state
// (ringing and active ones too), newest first. limit is 1 to 100 (default
// 20); `next` is the opaque cursor of the previous page ("" or absent: the
// first page); the answer's `next` is "" on the last page.
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/status_macros.h"
#include "server/calls/call_router.h"
#include "server/http/api.h"
#include "server/http/api_util.h"

namespace callsd::server {
namespace {

constexpr int kDefaultLogLimit = 20;
constexpr int kMaxLogLimit = 100;
constexpr absl::string_view kCursorPrefix = "calls:";

std::string Query(const HttpRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  return it == request.query.end() ? std::string() : it->second;
}

std::string EncodeCursor(int64_t before_rowid) {
  if (before_rowid <= 0) return std::string();
  return absl::WebSafeBase64Escape(absl::StrCat(kCursorPrefix, before_rowid));
}

absl::StatusOr<int64_t> DecodeCursor(const std::string& next) {
  if (next.empty()) return 0;
  std::string raw;
  int64_t rowid = 0;
  if (!absl::WebSafeBase64Unescape(next, &raw) || !absl::StartsWith(raw, kCursorPrefix) ||
      !absl::SimpleAtoi(absl::string_view(raw).substr(kCursorPrefix.size()), &rowid) ||
      rowid <= 0) {
    return ApiError(kCodeInvalidParams, "next: not a cursor from this server");
  }
  return rowid;
}

absl::StatusOr<int> Limit(const HttpRequest& request) {
  auto it = request.query.find("limit");
  if (it == request.query.end() || it->second.empty()) return kDefaultLogLimit;
  int limit = 0;
  if (!absl::SimpleAtoi(it->second, &limit) || limit < 1 || limit > kMaxLogLimit) {
    return ApiError(kCodeInvalidParams, absl::StrCat("limit: must be 1 to ", kMaxLogLimit));
  }
  return limit;
}

}  // namespace

// GET /v1/calls?state=ringing -> CallList
Api::Result Api::ListCalls(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const SessionKeyRecord session, RequireSession(request));
  const std::string state = Query(request, "state");
  if (!state.empty() && state != "ringing") {
    return ApiError(kCodeInvalidParams, "state: only \"ringing\" is supported");
  }
  ASSIGN_OR_RETURN(const std::vector<CallRecord> calls,
                   store_->ListRingingCalls(session.user.rowid));
  wire::v1::CallList out;
  for (const CallRecord& call : calls) *out.add_calls() = ToCallInfo(call);
  return ToJson(out);
}

// POST /v1/calls/{call_id}/decline -> CallInfo
Api::Result Api::DeclineCall(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const SessionKeyRecord session, RequireSession(request));
  if (calls_ == nullptr) return absl::InternalError("no call router");
  ASSIGN_OR_RETURN(const CallRecord call, calls_->Decline(session.user, params.at("call_id")));
  return ToJson(ToCallInfo(call));
}

// GET /v1/call_logs?limit=&next= -> CallList
Api::Result Api::CallLogs(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const SessionKeyRecord session, RequireSession(request));
  return CallPageOf(session.user, request);
}

// GET /v1/direct_calls?user_id=&limit=&next= -> CallList
Api::Result Api::DirectCalls(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const std::string app, PlatformApp(request));
  const std::string user_id = Query(request, "user_id");
  if (user_id.empty()) return ApiError(kCodeMissingParams, "user_id is required");
  absl::StatusOr<UserRecord> user = store_->GetUser(app, user_id);
  if (absl::IsNotFound(user.status())) {
    return ApiError(kCodeNotFound, absl::StrCat("user ", user_id, " not found"));
  }
  RETURN_IF_ERROR(user.status());
  return CallPageOf(*user, request);
}

Api::Result Api::CallPageOf(const UserRecord& user, const HttpRequest& request) {
  ASSIGN_OR_RETURN(const int limit, Limit(request));
  ASSIGN_OR_RETURN(const int64_t before, DecodeCursor(Query(request, "next")));
  ASSIGN_OR_RETURN(const CallPage page, store_->ListCalls(user.rowid, limit, before));
  wire::v1::CallList out;
  for (const CallRecord& call : page.calls) *out.add_calls() = ToCallInfo(call);
  out.set_next(EncodeCursor(page.next_before_rowid));
  return ToJson(out);
}

}  // namespace callsd::server
