// PushSender: the Pusher of calls-server. For each job it signs one
// wire.v1.PushPayload with the recipient's push_key (common/push_signing.h)
// and POSTs its JSON to every push token (endpoint URL) of the recipient of
// the job's token type, with headers
//   Content-Type: application/json
//   TTL: <ttl_s>
//   Urgency: high
// (the Web Push / UnifiedPush convention).
//
// Outcome per endpoint:
//   2xx                       delivered (the first one of a job runs its
//                             on_delivered);
//   404, 410                  the endpoint is gone: the token is removed
//                             from the user's push tokens;
//   5xx, 429, no connection,  retried, up to Options::max_attempts in all,
//   timeout                   after first_retry_delay, then twice that ...;
//   anything else             failed (not retried).
// One line per job is logged at INFO with the counts; token URLs and
// payloads are never logged (they identify devices).
//
// Threading: Push() runs on the scheduler's sequence (the call router's);
// HTTP completions arrive on the HttpClient's thread and are posted to that
// sequence before anything else happens. The Store is called on the
// sequence (local SQLite).
#ifndef CALLSD_SERVER_PUSH_PUSH_SENDER_H_
#define CALLSD_SERVER_PUSH_PUSH_SENDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_client.h"
#include "common/scheduler.h"
#include "server/calls/call_router.h"
#include "server/store/store.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server {

struct PushSenderOptions {
  // Tries per endpoint, the first included.
  int max_attempts = 3;
  // Delay before the second try; each later one doubles it.
  absl::Duration first_retry_delay = absl::Seconds(1);
  // Per request, from sending to the complete answer.
  absl::Duration request_timeout = absl::Seconds(5);
};

// The payload of `job`, signed with `push_key`, sent at `now`.
wire::v1::PushPayload MakePushPayload(const PushJob& job, absl::string_view push_key,
                                      absl::Time now);

class PushSender final : public Pusher {
 public:
  // Every pointer must outlive the sender. Completions that arrive after
  // the scheduler stopped running tasks are dropped with them.
  PushSender(Store* store, ::callsd::HttpClient* http, Scheduler* scheduler,
             PushSenderOptions options = {});

  PushSender(const PushSender&) = delete;
  PushSender& operator=(const PushSender&) = delete;

  // Pusher. Nothing is sent when the recipient does not exist or has no
  // token of the type.
  void Push(PushJob job, absl::AnyInvocable<void() &&> on_delivered) override;

 private:
  // One job: its payload and how its endpoints are doing.
  struct Batch {
    PushJob job;
    int64_t user_rowid = 0;
    std::string body;
    std::vector<std::string> tokens;
    std::vector<int> attempts;  // per token
    size_t pending = 0;         // endpoints not finished
    int delivered = 0;
    int unregistered = 0;
    int failed = 0;
    absl::AnyInvocable<void() &&> on_delivered;
  };

  void Send(std::shared_ptr<Batch> batch, size_t index);
  void OnAnswer(const std::shared_ptr<Batch>& batch, size_t index,
                absl::StatusOr<::callsd::HttpResponse> answer);
  void Done(const std::shared_ptr<Batch>& batch);

  // Constant after construction.
  Store* const store_;
  ::callsd::HttpClient* const http_;
  Scheduler* const scheduler_;
  const PushSenderOptions options_;
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_PUSH_PUSH_SENDER_H_
