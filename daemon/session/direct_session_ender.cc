#include "daemon/session/direct_session_ender.h"

#include "common/calls_error.h"
#include "glog/logging.h"

namespace callsd::daemon {

void DirectSessionEnder::EndSession(const SessionCredentials& old, bool keep_push_tokens,
                                    absl::AnyInvocable<void(bool, int) &&> done) {
  if (old.session_key.empty()) return std::move(done)(true, 0);
  backend_->EndSession(old, [done = std::move(done)](absl::Status status) mutable {
    // A key the server no longer knows is as ended as it gets.
    const bool ended = status.ok() || GetCallsCode(status).has_value();
    if (!ended) LOG(WARNING) << "could not end the session on the server: " << status;
    std::move(done)(ended, ended ? 0 : 1);
  });
}

}  // namespace callsd::daemon
