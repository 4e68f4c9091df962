// DirectSessionEnder: ends a session on the server with one DELETE /v1/auth
// and does not retry (superseded by the persistent queue of pending server
// operations).
#ifndef CALLSD_DAEMON_SESSION_DIRECT_SESSION_ENDER_H_
#define CALLSD_DAEMON_SESSION_DIRECT_SESSION_ENDER_H_

#include "daemon/backend/backend.h"
#include "daemon/session/session.h"

namespace callsd::daemon {

class DirectSessionEnder final : public SessionEnder {
 public:
  explicit DirectSessionEnder(Backend* backend) : backend_(backend) {}
  void EndSession(const SessionCredentials& old, bool keep_push_tokens,
                  absl::AnyInvocable<void(bool confirmed, int pending) &&> done) override;

 private:
  Backend* const backend_;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_SESSION_DIRECT_SESSION_ENDER_H_
