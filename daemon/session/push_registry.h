// PushRegistry: this device's push tokens (endpoint URLs) and their
// registration with the calls server for the logged-in user.
//
// Tokens are stored locally first (PENDING) and sent to the server now if
// the session is authenticated, and again after every authentication: after
// a restart every stored token is registered again, since the server may
// have forgotten it. Unregistrations (and the server side of a logout) go
// through the ServerOpQueue, so that they survive an unreachable server and
// restarts. New registrations wait until that queue is empty, so an old
// unregistration never undoes a newer registration.
//
// Engine sequence only. Every `done` is called exactly once.
#ifndef CALLSD_DAEMON_SESSION_PUSH_REGISTRY_H_
#define CALLSD_DAEMON_SESSION_PUSH_REGISTRY_H_

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/backoff.h"
#include "common/scheduler.h"
#include "daemon/backend/backend.h"
#include "daemon/events/events.h"
#include "daemon/session/server_op_queue.h"
#include "daemon/session/session.h"
#include "daemon/store/state_store.h"

namespace callsd::daemon {

class PushRegistry final : public SessionListener, public SessionEnder {
 public:
  struct Options {
    absl::Duration retry_initial = absl::Seconds(1);
    absl::Duration retry_max = absl::Seconds(60);
  };
  template <typename T>
  using Done = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

  // Nothing is owned; everything must outlive the registry. Call
  // set_session() before Start() (the Session needs the registry as its
  // SessionEnder, so they are built in two steps).
  PushRegistry(Scheduler* engine, StateStore* store, Backend* backend, ServerOpQueue* queue,
               EventSink* events, Options options);
  void set_session(Session* session) { session_ = session; }

  // Loads the stored tokens.
  absl::Status Start();
  void Shutdown();

  // Stores the token and registers it when authenticated. Answers with the
  // token's state after the first try: REGISTERED; PENDING (not
  // authenticated, unregistrations still queued before it, or the server
  // could not be reached: it is sent later); or an error with the server's
  // code when it refused the token (kept as FAILED).
  // FAILED_PRECONDITION/1800302 before Init, UNAUTHENTICATED/1800303 when
  // nobody is logged in.
  void Register(PushType type, const std::string& token, bool unique,
                Done<StoredPushToken> done);

  // Removes the token (or every token of `type`) locally at once and
  // unregisters it on the server, retrying until confirmed. Answers whether
  // the server confirmed within the first try.
  void Unregister(PushType type, const std::string& token, Done<bool> done);
  void UnregisterAll(PushType type, Done<bool> done);

  const std::vector<StoredPushToken>& tokens() const { return tokens_; }
  int pending_unregistrations() const { return queue_->pending(); }

  // SessionListener.
  void OnAuthenticated(const SessionCredentials& creds) override;
  void OnSessionSuspended(const absl::Status& reason) override;
  void OnSessionEnded(bool app_changed) override;

  // SessionEnder.
  std::vector<PendingOp> PlanEnd(const SessionCredentials& old, bool keep_push_tokens) override;
  void Execute(std::vector<PendingOp> ops,
               absl::AnyInvocable<void(bool, int) &&> done) override;

 private:
  StoredPushToken* Find(PushType type, const std::string& token);
  absl::Status CheckLoggedIn() const;
  // Sends the registration of one token; `done` (may be empty) gets its state.
  void Send(PushType type, const std::string& token, Done<StoredPushToken> done);
  void OnSent(uint64_t generation, PushType type, std::string token, absl::Status status,
              Done<StoredPushToken> done);
  // Registers every token that needs it (all of them after a restart).
  void RegisterAll();
  void ScheduleRetry();
  void Save(const StoredPushToken& token);
  void Changed();
  void Remove(PushType type, const std::string& token, PendingOp::Kind kind, Done<bool> done);

  Scheduler* const engine_;
  StateStore* const store_;
  Backend* const backend_;
  ServerOpQueue* const queue_;
  EventSink* const events_;
  Session* session_ = nullptr;

  std::vector<StoredPushToken> tokens_;
  // Tokens the server confirmed for the logged-in user since this daemon
  // started (a REGISTERED loaded from the store may be stale: the server
  // may have forgotten it). Cleared at logout and APP_ID change.
  std::vector<std::pair<PushType, std::string>> confirmed_;
  // Bumped whenever the session changes; answers of older requests only
  // touch tokens when their generation is current.
  uint64_t generation_ = 0;
  bool shut_down_ = false;
  Backoff backoff_;
  TimerId retry_timer_ = 0;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_SESSION_PUSH_REGISTRY_H_
