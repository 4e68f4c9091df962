#include "server/http/errors.h"

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/wire_json.h"
#include "glog/logging.h"

namespace callsd::server {

absl::Status ApiError(int calls_code, absl::string_view message) {
  return CallsError(StatusCodeForServerCode(calls_code), calls_code, message);
}

int HttpStatusForCode(int calls_code) {
  if ((calls_code >= 400000 && calls_code < 401000) ||
      (calls_code >= 1400000 && calls_code < 1401000)) {
    return 400;
  }
  if (calls_code >= 401000 && calls_code < 402000) return 401;
  return 500;
}

HttpResponse ErrorResponse(int http_status, int calls_code, absl::string_view message) {
  HttpResponse response;
  response.http_status = http_status;
  response.body = ErrorJson(calls_code, message);
  return response;
}

HttpResponse ErrorResponse(const absl::Status& status) {
  std::optional<int> code = GetCallsCode(status);
  if (!code) {
    LOG(ERROR) << "internal error: " << status;
    return ErrorResponse(500, kCodeInternal, "internal server error");
  }
  return ErrorResponse(HttpStatusForCode(*code), *code, status.message());
}

HttpResponse BodyTooLargeResponse(size_t size, size_t limit) {
  return ErrorResponse(413, kCodeInvalidParams,
                       absl::StrCat("request body of ", size, " bytes is over the limit of ",
                                    limit, " bytes"));
}

}  // namespace callsd::server
