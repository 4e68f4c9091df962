#include "common/http/lws_log.h"

#include <libwebsockets.h>

#include <mutex>
#include <string_view>

#include "glog/logging.h"

namespace callsd {
namespace {

void EmitToGlog(int level, const char* line) {
  std::string_view text(line == nullptr ? "" : line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (level & LLL_ERR) {
    LOG(WARNING) << "lws: " << text;
  } else {
    VLOG(1) << "lws: " << text;
  }
}

}  // namespace

void RouteLwsLogsToGlog() {
  static std::once_flag once;
  std::call_once(once, [] { lws_set_log_level(LLL_ERR | LLL_WARN, &EmitToGlog); });
}

}  // namespace callsd
