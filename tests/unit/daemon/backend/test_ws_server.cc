#include "tests/unit/daemon/backend/test_ws_server.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cstring>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/http/lws_log.h"
#include "common/wire_json.h"
#include "wire/v1/wire.pb.h"

namespace callsd::testing {
namespace {

std::string Header(lws* wsi, lws_token_indexes token) {
  const int n = lws_hdr_total_length(wsi, token);
  if (n <= 0) return {};
  std::string value(static_cast<size_t>(n) + 1, '\0');
  const int copied = lws_hdr_copy(wsi, value.data(), n + 1, token);
  value.resize(copied > 0 ? static_cast<size_t>(copied) : 0);
  return value;
}

// `name` lower-case with its colon, e.g. "app-id:".
std::string CustomHeader(lws* wsi, const char* name) {
  const int name_len = static_cast<int>(strlen(name));
  const int n = lws_hdr_custom_length(wsi, name, name_len);
  if (n <= 0) return {};
  std::string value(static_cast<size_t>(n) + 1, '\0');
  const int copied = lws_hdr_custom_copy(wsi, value.data(), n + 1, name, name_len);
  value.resize(copied > 0 ? static_cast<size_t>(copied) : 0);
  return value;
}

}  // namespace

std::string TestWsServer::HelloJson() {
  wire::v1::WsMessage hello;
  hello.set_type("hello");
  hello.set_user_id("alice");
  return ToJson(hello);
}

absl::StatusOr<std::unique_ptr<TestWsServer>> TestWsServer::Start(Options options) {
  RouteLwsLogsToGlog();
  auto server = absl::WrapUnique(new TestWsServer(std::move(options)));
  if (absl::Status status = server->Init(); !status.ok()) return status;
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

TestWsServer::TestWsServer(Options options) : options_(std::move(options)) {
  protocols_[0].name = "test-ws";
  protocols_[0].callback = &TestWsServer::Callback;
  protocols_[0].rx_buffer_size = 4096;
}

absl::Status TestWsServer::Init() {
  // One context with its default vhost.
  lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.port = 0;  // any free port
  info.iface = "127.0.0.1";
  info.protocols = protocols_;
  info.user = this;
  info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
  if (!options_.cert_file.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = options_.cert_file.c_str();
    info.ssl_private_key_filepath = options_.key_file.c_str();
    // Otherwise lws 4.1.6 also makes this server vhost a client SSL_CTX
    // (with the server certificate as client certificate) and never frees
    // it: LeakSanitizer reports it. This one is ours to free.
    client_ssl_ctx_ = SSL_CTX_new(TLS_client_method());
    info.provided_client_ssl_ctx = static_cast<SSL_CTX*>(client_ssl_ctx_);
  }
  context_.reset(lws_create_context(&info));
  if (context_ == nullptr) return absl::InternalError("lws_create_context failed");
  lws_vhost* vhost = lws_get_vhost_by_name(context_.get(), "default");
  if (vhost == nullptr) return absl::InternalError("lws created no default vhost");
  port_ = lws_get_vhost_listen_port(vhost);
  return absl::OkStatus();
}

TestWsServer::~TestWsServer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  lws_cancel_service(context_.get());
  if (thread_.joinable()) thread_.join();
  context_.reset();
  SSL_CTX_free(static_cast<SSL_CTX*>(client_ssl_ctx_));
}

std::string TestWsServer::base_url(const std::string& prefix) const {
  return options_.cert_file.empty() ? absl::StrCat("http://127.0.0.1:", port_, prefix)
                                    : absl::StrCat("https://localhost:", port_, prefix);
}

std::vector<TestWsServer::Handshake> TestWsServer::handshakes() const {
  absl::MutexLock lock(&mu_);
  return handshakes_;
}

std::vector<std::string> TestWsServer::received() const {
  absl::MutexLock lock(&mu_);
  return received_;
}

std::vector<int> TestWsServer::client_close_codes() const {
  absl::MutexLock lock(&mu_);
  return client_close_codes_;
}

int TestWsServer::closed_connections() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

int TestWsServer::open_connections() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

bool TestWsServer::WaitForHandshakes(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return handshakes_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

bool TestWsServer::WaitForReceived(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return received_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

bool TestWsServer::WaitForClosed(int n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return closed_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

void TestWsServer::Send(const std::string& text) {
  Command command;
  command.frames.push_back({text, LWS_WRITE_TEXT});
  Push(std::move(command));
}

void TestWsServer::SendFragmented(const std::vector<std::string>& parts) {
  Command command;
  for (size_t i = 0; i < parts.size(); ++i) {
    command.frames.push_back(
        {parts[i], lws_write_ws_flags(LWS_WRITE_TEXT, i == 0, i + 1 == parts.size())});
  }
  Push(std::move(command));
}

void TestWsServer::SendBinary(const std::string& bytes) {
  Command command;
  command.frames.push_back({bytes, LWS_WRITE_BINARY});
  Push(std::move(command));
}

void TestWsServer::Close(int code) {
  Command command;
  command.kind = Command::Kind::kClose;
  command.code = code;
  Push(std::move(command));
}

void TestWsServer::Drop() {
  Command command;
  command.kind = Command::Kind::kDrop;
  Push(std::move(command));
}

void TestWsServer::GoSilent() {
  Command command;
  command.kind = Command::Kind::kSilent;
  Push(std::move(command));
}

void TestWsServer::Push(Command command) {
  {
    absl::MutexLock lock(&mu_);
    commands_.push_back(std::move(command));
  }
  lws_cancel_service(context_.get());
}

// ---------------------------------------------------------------------------
// Service thread.

void TestWsServer::Run() {
  for (;;) {
    std::deque<Command> batch;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      batch.swap(commands_);
    }
    for (Command& command : batch) Handle(std::move(command));
    lws_service(context_.get(), 0);
  }
}

TestWsServer::Session* TestWsServer::Newest() {
  Session* newest = nullptr;
  for (auto& [wsi, session] : sessions_) {
    if (!session.closed && (newest == nullptr || session.id > newest->id)) newest = &session;
  }
  return newest;
}

TestWsServer::Session* TestWsServer::Of(lws* wsi) {
  auto it = sessions_.find(wsi);
  return it == sessions_.end() ? nullptr : &it->second;
}

void TestWsServer::Handle(Command command) {
  Session* s = Newest();
  if (s == nullptr) return;
  switch (command.kind) {
    case Command::Kind::kFrames:
      for (Frame& frame : command.frames) s->out.push_back(std::move(frame));
      lws_callback_on_writable(s->wsi);
      return;
    case Command::Kind::kClose:
      s->close_code = command.code;
      lws_callback_on_writable(s->wsi);
      return;
    case Command::Kind::kDrop:
      // The peer sees the TCP connection end without a close frame; lws
      // notices the hang-up and cleans up.
      shutdown(lws_get_socket_fd(s->wsi), SHUT_RDWR);
      s->silent = true;
      return;
    case Command::Kind::kSilent:
      s->silent = true;
      lws_rx_flow_control(s->wsi, 0);
      return;
  }
}

int TestWsServer::Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                           size_t len) {
  auto* self = static_cast<TestWsServer*>(lws_context_user(lws_get_context(wsi)));
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  return self->OnEvent(wsi, reason, user, in, len);
}

int TestWsServer::OnEvent(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                          size_t len) {
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      Handshake h;
      h.path = Header(wsi, WSI_TOKEN_GET_URI);
      h.host = Header(wsi, WSI_TOKEN_HOST);
      h.app_id = CustomHeader(wsi, "app-id:");
      h.session_key = CustomHeader(wsi, "session-key:");
      h.offered_subprotocol = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) > 0;
      upgrading_[wsi] = std::move(h);
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      Session& s = sessions_[wsi];
      s = Session{};
      s.id = next_id_++;
      s.wsi = wsi;
      {
        absl::MutexLock lock(&mu_);
        handshakes_.push_back(std::move(upgrading_[wsi]));
        ++open_;
      }
      upgrading_.erase(wsi);
      switch (options_.greeting) {
        case Greeting::kHello:
          s.out.push_back({HelloJson(), LWS_WRITE_TEXT});
          break;
        case Greeting::kError: {
          wire::v1::WsMessage error;
          error.set_type("error");
          error.set_code(options_.error_code);
          error.set_message(options_.error_message);
          s.out.push_back({ToJson(error), LWS_WRITE_TEXT});
          s.close_code = 1000;
          break;
        }
        case Greeting::kNothing:
          break;
      }
      if (!s.out.empty()) lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      Session* s = Of(wsi);
      if (s == nullptr) return -1;
      s->rx.append(static_cast<const char*>(in), len);
      if (!lws_is_final_fragment(wsi)) return 0;
      std::string text = std::move(s->rx);
      s->rx.clear();
      if (options_.echo && !s->silent) {
        s->out.push_back({text, LWS_WRITE_TEXT});
        lws_callback_on_writable(wsi);
      }
      absl::MutexLock lock(&mu_);
      received_.push_back(std::move(text));
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      Session* s = Of(wsi);
      if (s == nullptr || s->silent) return 0;
      if (!s->out.empty()) {
        Frame frame = std::move(s->out.front());
        s->out.pop_front();
        std::string buf(LWS_PRE, '\0');
        buf += frame.data;
        auto* data = reinterpret_cast<unsigned char*>(buf.data()) + LWS_PRE;
        if (lws_write(wsi, data, frame.data.size(), static_cast<lws_write_protocol>(frame.flags)) <
            static_cast<int>(frame.data.size())) {
          return -1;
        }
        if (!s->out.empty() || s->close_code != 0) lws_callback_on_writable(wsi);
        return 0;
      }
      if (s->close_code != 0) {
        lws_close_reason(wsi, static_cast<lws_close_status>(s->close_code),
                         reinterpret_cast<unsigned char*>(const_cast<char*>("bye")), 3);
        return -1;
      }
      return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
      int code = 0;
      if (in != nullptr && len >= 2) {
        const auto* bytes = static_cast<const unsigned char*>(in);
        code = (bytes[0] << 8) | bytes[1];
      }
      absl::MutexLock lock(&mu_);
      client_close_codes_.push_back(code);
      return 0;
    }
    case LWS_CALLBACK_CLOSED: {
      Session* s = Of(wsi);
      if (s != nullptr) {
        sessions_.erase(wsi);
        absl::MutexLock lock(&mu_);
        ++closed_;
        --open_;
      }
      return 0;
    }
    case LWS_CALLBACK_WSI_DESTROY:
      upgrading_.erase(wsi);
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

}  // namespace callsd::testing
