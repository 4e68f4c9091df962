#include "common/http/lws_http_client.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/http/http_util.h"
#include "common/http/lws_log.h"
#include "glog/logging.h"

namespace callsd {
namespace {

// lws's own timeouts (connect, waiting for the response) are whole seconds
// and per context; set them past any request timeout so that the per-request
// lws_sul timers, which have ms precision, always decide.
constexpr unsigned kLwsBackstopSecs = 3600 + 60;  // kMaxRequestTimeout + a minute
// Large enough for the request line, lws's headers and ours.
constexpr unsigned kServBufBytes = 4096 + 2 * kMaxRequestHeaderBytes;

const absl::Status& ShuttingDown() {
  static const absl::Status* const status =
      new absl::Status(absl::UnavailableError("HTTP client shutting down"));
  return *status;
}

// Connections carry their request's id (never 0, never reused) as tag.
void* IdTag(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }

}  // namespace

absl::StatusOr<std::unique_ptr<LwsHttpClient>> LwsHttpClient::Create(
    LwsHttpClientOptions options) {
  if (options.max_response_bytes == 0 || options.max_connections <= 0) {
    return absl::InvalidArgumentError("max_response_bytes and max_connections must be positive");
  }
  if (!options.ca_file.empty() && access(options.ca_file.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ca_file ", options.ca_file, " cannot be read: ", strerror(errno)));
  }
  RouteLwsLogsToGlog();
  auto client = absl::WrapUnique(new LwsHttpClient(std::move(options)));
  if (absl::Status status = client->Init(); !status.ok()) return status;
  client->thread_ = std::thread([c = client.get()] { c->Run(); });
  pthread_setname_np(client->thread_.native_handle(),
                     client->options_.thread_name.substr(0, 15).c_str());
  return client;
}

LwsHttpClient::LwsHttpClient(LwsHttpClientOptions options) : options_(std::move(options)) {
  protocols_[0].name = "callsd-http-client";
  protocols_[0].callback = &LwsHttpClient::LwsCallback;
  write_buf_.resize(LWS_PRE + kWriteChunk);
}

absl::Status LwsHttpClient::Init() {
  if (!options_.verify_certificates) {
    LOG(WARNING) << "HTTP client created with TLS certificate verification OFF";
  }
  LwsClientContextOptions context_options;
  context_options.protocols = protocols_;
  context_options.user = this;
  context_options.ca_file = options_.ca_file;
  context_options.backstop_secs = kLwsBackstopSecs;
  context_options.serv_buf_bytes = kServBufBytes;
  context_options.what = "HTTP client";
  return CreateLwsClientContext(context_options, &ssl_ctx_, &context_);
}

LwsHttpClient::~LwsHttpClient() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (!closed_ && context_ != nullptr) lws_cancel_service(context_.get());
  }
  // Without a thread (Create() failed) the context, if any, goes with the
  // members.
  if (thread_.joinable()) thread_.join();
}

void LwsHttpClient::Send(HttpRequest request, Callback done) {
  Queued queued;
  queued.deadline = absl::Now() + request.timeout;
  queued.error = CheckRequest(request, options_.allow_insecure_http, &queued.url);
  queued.request = std::move(request);
  queued.done = std::move(done);
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      queue_.push_back(std::move(queued));
      lws_cancel_service(context_.get());
      return;
    }
  }
  std::move(queued.done)(ShuttingDown());
}

// ---------------------------------------------------------------------------
// Service thread.

void LwsHttpClient::Run() {
  for (;;) {
    std::deque<Queued> batch;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      batch.swap(queue_);
    }
    for (Queued& queued : batch) Admit(std::move(queued));
    StartWaiting();
    lws_service(context_.get(), 0);
  }
  FailEverything();
  context_.reset();
}

void LwsHttpClient::FailEverything() {
  // A `done` may Send() again: loop until nothing is left, then close.
  for (;;) {
    std::deque<Queued> batch;
    {
      absl::MutexLock lock(&mu_);
      batch.swap(queue_);
      if (batch.empty() && pending_.empty()) {
        closed_ = true;
        return;
      }
    }
    for (Queued& queued : batch) std::move(queued.done)(ShuttingDown());
    waiting_.clear();
    while (!pending_.empty()) Complete(pending_.begin()->first, ShuttingDown());
  }
}

void LwsHttpClient::Admit(Queued queued) {
  if (!queued.error.ok()) {
    std::move(queued.done)(std::move(queued.error));
    return;
  }
  const absl::Duration left = queued.deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    std::move(queued.done)(absl::DeadlineExceededError(absl::StrCat(
        "no response from ", queued.url.host, " within ",
        absl::FormatDuration(queued.request.timeout), " (still queued)")));
    return;
  }
  const uint64_t id = next_id_++;
  auto p = std::make_unique<Pending>();
  p->id = id;
  p->url = std::move(queued.url);
  p->host_header = HostHeader(p->url);
  p->request = std::move(queued.request);
  p->done = std::move(queued.done);
  p->started = absl::Now();
  p->timer.client = this;
  p->timer.id = id;
  lws_sul_schedule(context_.get(), 0, &p->timer.sul, &LwsHttpClient::OnTimer,
                   std::max<lws_usec_t>(1, absl::ToInt64Microseconds(left)));
  pending_.emplace(id, std::move(p));
  waiting_.push_back(id);
}

void LwsHttpClient::StartWaiting() {
  while (!waiting_.empty() && connections_ < options_.max_connections) {
    const uint64_t id = waiting_.front();
    waiting_.pop_front();
    if (Find(id) != nullptr) Connect(id);
  }
}

void LwsHttpClient::Connect(uint64_t id) {
  Pending& p = *Find(id);
  lws_client_connect_info info;
  memset(&info, 0, sizeof(info));
  info.context = context_.get();
  info.address = p.url.host.c_str();
  info.port = p.url.port;
  info.path = p.url.path.c_str();
  info.host = p.host_header.c_str();
  info.method = p.request.method.c_str();
  info.protocol = protocols_[0].name;
  info.local_protocol_name = protocols_[0].name;
  info.alpn = "http/1.1";
  info.opaque_user_data = IdTag(id);
  info.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  if (p.url.tls) {
    info.ssl_connection |= TlsConnectionFlags(options_.verify_certificates, p.host_header);
  }
  p.connecting = true;
  ++connections_;
  connecting_id_ = id;
  lws* wsi = lws_client_connect_via_info(&info);
  connecting_id_ = 0;
  // lws may already have failed the connection through a callback.
  Pending* still = Find(id);
  if (still == nullptr) return;
  if (wsi == nullptr) {
    // lws 4.1 fails a DNS lookup this way, silently: find out which it was.
    still->wsi = nullptr;
    Complete(id, ConnectStartFailure(still->url));
    return;
  }
  still->wsi = wsi;
}

LwsHttpClient::Pending* LwsHttpClient::Find(uint64_t id) {
  auto it = pending_.find(id);
  return it == pending_.end() ? nullptr : it->second.get();
}

void LwsHttpClient::Complete(uint64_t id, absl::StatusOr<HttpResponse> result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  lws_sul_cancel(&p->timer.sul);
  if (p->connecting) {
    --connections_;
    // Let the loop start a waiting request (never from inside a callback).
    if (!waiting_.empty()) lws_cancel_service(context_.get());
  }
  if (p->wsi != nullptr) lws_set_opaque_user_data(p->wsi, nullptr);
  VLOG(1) << "HTTP " << p->request.method << " " << p->host_header
          << LoggablePath(p->url.path) << " -> "
          << (result.ok() ? absl::StrCat(result->status, ", ", result->body.size(), " bytes")
                          : result.status().ToString())
          << " in " << absl::FormatDuration(absl::Now() - p->started);
  std::move(p->done)(std::move(result));
}

void LwsHttpClient::Abort(uint64_t id, absl::Status status) {
  Pending* p = Find(id);
  if (p == nullptr) return;
  lws* wsi = p->wsi;
  Complete(id, std::move(status));
  // Not inside any callback of this wsi (a timer): close it now.
  if (wsi != nullptr) lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

void LwsHttpClient::OnTimer(lws_sorted_usec_list_t* sul) {
  static_assert(std::is_standard_layout_v<TimerSlot>);
  auto* slot = reinterpret_cast<TimerSlot*>(sul);
  LwsHttpClient* self = slot->client;
  Pending* p = self->Find(slot->id);
  if (p == nullptr) return;
  self->Abort(slot->id, absl::DeadlineExceededError(absl::StrCat(
                            "no complete response from ", p->url.host, ":", p->url.port,
                            " within ", absl::FormatDuration(p->request.timeout))));
}

int LwsHttpClient::LwsCallback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                               size_t len) {
  auto* self = static_cast<LwsHttpClient*>(lws_context_user(lws_get_context(wsi)));
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  return self->OnEvent(wsi, reason, user, in, len);
}

int LwsHttpClient::OnEvent(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                           size_t len) {
  auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(lws_get_opaque_user_data(wsi)));
  // lws tags the wsi only part way through lws_client_connect_via_info(): an
  // error inside that call may come untagged.
  if (id == 0 && reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR) id = connecting_id_;
  Pending* p = id == 0 ? nullptr : Find(id);
  if (p != nullptr) {
    if (p->wsi == nullptr) p->wsi = wsi;
    return OnRequestEvent(*p, wsi, reason, user, in, len);
  }
  switch (reason) {
    // A connection whose request is finished: nobody wants its bytes.
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
      return -1;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

}  // namespace callsd
