#include "server/push/push_sender.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/push_signing.h"
#include "common/wire_json.h"
#include "glog/logging.h"

namespace callsd::server {
namespace {

enum class Verdict { kDelivered, kGone, kRetry, kFailed };

Verdict Judge(const absl::StatusOr<::callsd::HttpResponse>& answer) {
  if (!answer.ok()) {
    const absl::StatusCode code = answer.status().code();
    return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded
               ? Verdict::kRetry
               : Verdict::kFailed;
  }
  const int status = answer->status;
  if (status >= 200 && status < 300) return Verdict::kDelivered;
  if (status == 404 || status == 410) return Verdict::kGone;
  if (status >= 500 || status == 429) return Verdict::kRetry;
  return Verdict::kFailed;
}

// For the log: what happened, without the endpoint's message (it may name
// the host).
std::string Describe(const absl::StatusOr<::callsd::HttpResponse>& answer) {
  if (answer.ok()) return absl::StrCat("HTTP ", answer->status);
  return absl::StatusCodeToString(answer.status().code());
}

}  // namespace

wire::v1::PushPayload MakePushPayload(const PushJob& job, absl::string_view push_key,
                                      absl::Time now) {
  wire::v1::PushPayload payload;
  payload.set_v(1);
  payload.set_app_id(job.app_id);
  payload.set_user_id(job.user_id);
  payload.set_type(job.type);
  payload.set_call_id(job.call_id);
  payload.mutable_caller()->set_user_id(job.caller_id);
  payload.mutable_caller()->set_nickname(job.caller_nickname);
  payload.set_video(job.video);
  payload.set_sent_at(absl::ToUnixMillis(now));
  payload.set_ttl_s(job.ttl_s);
  payload.set_end_result(job.end_result);
  SignPush(&payload, push_key);
  return payload;
}

PushSender::PushSender(Store* store, ::callsd::HttpClient* http, Scheduler* scheduler,
                       PushSenderOptions options)
    : store_(store), http_(http), scheduler_(scheduler), options_(std::move(options)) {}

void PushSender::Push(PushJob job, absl::AnyInvocable<void() &&> on_delivered) {
  const std::string what =
      absl::StrCat(job.type, " for call ", job.call_id, " to ", PushTypeName(job.token_type));
  absl::StatusOr<UserRecord> user = store_->GetUser(job.app_id, job.user_id);
  if (!user.ok()) {
    if (absl::IsNotFound(user.status())) {
      VLOG(1) << "push " << what << ": the recipient no longer exists";
    } else {
      LOG(ERROR) << "push " << what << ": " << user.status();
    }
    return;
  }
  absl::StatusOr<std::vector<PushTokenRecord>> all = store_->ListPushTokens(user->rowid);
  if (!all.ok()) {
    LOG(ERROR) << "push " << what << ": " << all.status();
    return;
  }
  auto batch = std::make_shared<Batch>();
  for (PushTokenRecord& token : *all) {
    if (token.type == job.token_type) batch->tokens.push_back(std::move(token.token));
  }
  if (batch->tokens.empty()) {
    LOG(INFO) << "push " << what << ": the recipient has no such token";
    return;
  }
  const wire::v1::PushPayload payload =
      MakePushPayload(job, user->push_key, scheduler_->clock().Now());
  batch->body = ToJson(payload);
  if (batch->body.size() > kMaxPushPayloadBytes) {
    LOG(ERROR) << "push " << what << ": payload of " << batch->body.size()
               << " bytes is over the limit; not sent";
    return;
  }
  batch->job = std::move(job);
  batch->user_rowid = user->rowid;
  batch->attempts.assign(batch->tokens.size(), 0);
  batch->pending = batch->tokens.size();
  batch->on_delivered = std::move(on_delivered);
  for (size_t i = 0; i < batch->tokens.size(); ++i) Send(batch, i);
}

void PushSender::Send(std::shared_ptr<Batch> batch, size_t index) {
  ++batch->attempts[index];
  ::callsd::HttpRequest request;
  request.method = "POST";
  request.url = batch->tokens[index];
  request.headers = {{"Content-Type", "application/json"},
                     {"TTL", absl::StrCat(batch->job.ttl_s)},
                     {"Urgency", "high"}};
  request.body = batch->body;
  request.timeout = options_.request_timeout;
  http_->Send(std::move(request), [this, batch = std::move(batch),
                                   index](absl::StatusOr<::callsd::HttpResponse> answer) mutable {
    // The HTTP client's thread: hand over to the sequence.
    scheduler_->Post([this, batch = std::move(batch), index, answer = std::move(answer)]() mutable {
      OnAnswer(batch, index, std::move(answer));
    });
  });
}

void PushSender::OnAnswer(const std::shared_ptr<Batch>& batch, size_t index,
                          absl::StatusOr<::callsd::HttpResponse> answer) {
  const int attempt = batch->attempts[index];
  switch (Judge(answer)) {
    case Verdict::kDelivered:
      ++batch->delivered;
      if (batch->on_delivered) std::exchange(batch->on_delivered, nullptr)();
      break;
    case Verdict::kGone: {
      absl::StatusOr<int> removed = store_->UnregisterPushToken(
          batch->user_rowid, batch->job.token_type, batch->tokens[index]);
      if (!removed.ok()) LOG(ERROR) << "cannot remove a dead push token: " << removed.status();
      ++batch->unregistered;
      break;
    }
    case Verdict::kRetry:
      if (attempt < options_.max_attempts) {
        const absl::Duration delay = options_.first_retry_delay * (1 << (attempt - 1));
        VLOG(1) << "push " << batch->job.type << " for call " << batch->job.call_id << ": endpoint "
                << index + 1 << " try " << attempt << ": " << Describe(answer) << "; again in "
                << absl::FormatDuration(delay);
        scheduler_->RunAfter(delay, [this, batch, index] { Send(batch, index); });
        return;
      }
      ++batch->failed;
      break;
    case Verdict::kFailed:
      ++batch->failed;
      break;
  }
  VLOG(1) << "push " << batch->job.type << " for call " << batch->job.call_id << ": endpoint "
          << index + 1 << " try " << attempt << ": " << Describe(answer);
  if (--batch->pending == 0) Done(batch);
}

void PushSender::Done(const std::shared_ptr<Batch>& batch) {
  LOG(INFO) << "push " << batch->job.type << " for call " << batch->job.call_id << " to "
            << batch->tokens.size() << " " << PushTypeName(batch->job.token_type)
            << " token(s): " << batch->delivered << " delivered, " << batch->unregistered
            << " unregistered (gone), " << batch->failed << " failed";
}

}  // namespace callsd::server
