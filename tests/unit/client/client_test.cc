// libcallsclient against an in-process gRPC server on a temporary Unix
// socket: Connect errors, every RPC, ErrorInfo decoding, deadlines, Watch
// order and cancellation. Waits on conditions with deadlines; never sleeps
// for synchronisation.
#include "callsd/client.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client-lib/callsctl/callsctl.h"
#include "gmock/gmock.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"
#include "test_calls_service.h"

namespace callsd::client {
namespace {

using ::callsd::testing::RichError;
using ::callsd::testing::TestCallsService;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(10);  // Generous: only bounds a failure.

// A temporary directory under /tmp (short: sun_path holds 107 bytes).
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ccl-XXXXXX";
    path_ = mkdtemp(tmpl) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::string cmd = absl::StrCat("rm -rf '", path_, "'");
      (void)!system(cmd.c_str());
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A plain Unix socket bound at `path`; listening when `listen` is set.
int BindPlain(const std::string& path, bool listen) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "bind " << path << ": " << std::strerror(errno);
  }
  if (listen && ::listen(fd, 4) != 0) ADD_FAILURE() << "listen: " << std::strerror(errno);
  return fd;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    socket_ = dir_.path() + "/callsd.sock";
  }

  void TearDown() override { StopServer(); }

  void StartServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void StopServer() {
    if (server_ == nullptr) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    server_->Wait();
    server_.reset();
  }

  std::unique_ptr<Client> MustConnect(absl::Duration deadline = absl::Seconds(30)) {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect({socket_, deadline});
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  TempDir dir_;
  std::string socket_;
  TestCallsService service_;
  std::unique_ptr<grpc::Server> server_;
};

// ---------------------------------------------------------------------------
// Connect

TEST_F(ClientTest, MissingSocketIsUnavailableNamingThePath) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect({socket_});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.status().message(),
            absl::StrCat("callsd is not running: socket ", socket_, " does not exist"));
  std::optional<v1::ErrorInfo> info = GetErrorInfo(client.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_THAT(info->hint(), HasSubstr("systemctl start callsd.socket"));
}

TEST_F(ClientTest, StaleSocketIsUnavailableSayingNobodyListens) {
  close(BindPlain(socket_, /*listen=*/false));  // The file stays, nobody listens.
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect({socket_});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(client.status().message(), HasSubstr("nobody listens on " + socket_));
  EXPECT_THAT(client.status().message(), HasSubstr("stale"));
  ASSERT_TRUE(GetErrorInfo(client.status()).has_value());
  EXPECT_THAT(GetErrorInfo(client.status())->hint(), HasSubstr("restart callsd"));
}

TEST_F(ClientTest, RegularFileIsNotASocket) {
  std::ofstream(socket_) << "x";
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect({socket_});
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.status().message(), socket_ + " is not a socket");
}

TEST_F(ClientTest, TooLongPathIsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect({"/tmp/" + std::string(200, 'x') + ".sock"});
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client.status().message(), HasSubstr("too long"));
}

// Runs `check` as uid/gid 65534 (nobody) in a child process and returns its
// status (code, message, ErrorInfo); nullopt when privileges cannot be dropped.
std::optional<absl::Status> RunAsNobody(const std::function<absl::Status()>& check) {
  int fds[2];
  if (pipe(fds) != 0) return std::nullopt;
  pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    close(fds[0]);
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(3);
    }
    absl::Status status = check();
    std::optional<v1::ErrorInfo> info = GetErrorInfo(status);
    v1::ErrorInfo carrier = info.value_or(v1::ErrorInfo());
    carrier.set_calls_code(static_cast<int>(status.code()));  // Reuse a field for the code.
    carrier.set_message(std::string(status.message()));
    std::string bytes = carrier.SerializeAsString();
    (void)!write(fds[1], bytes.data(), bytes.size());
    _exit(0);
  }
  close(fds[1]);
  std::string bytes;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) bytes.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) return std::nullopt;
  v1::ErrorInfo carrier;
  if (!carrier.ParseFromString(bytes)) return std::nullopt;
  absl::Status status(static_cast<absl::StatusCode>(carrier.calls_code()), carrier.message());
  carrier.set_calls_code(0);
  return WithErrorInfo(status, carrier);
}

TEST_F(ClientTest, SocketWithoutPermissionIsPermissionDenied) {
  int fd = BindPlain(socket_, /*listen=*/true);
  ASSERT_EQ(chmod(socket_.c_str(), 0600), 0);
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  auto check = [this] { return Client::Connect({socket_}).status(); };
  absl::Status status;
  if (geteuid() != 0) {
    status = check();
  } else {
    // Root may open any socket: check as "nobody" in a child process.
    std::optional<absl::Status> as_nobody = RunAsNobody(check);
    if (!as_nobody.has_value()) {
      close(fd);
      GTEST_SKIP() << "running as root and cannot drop privileges to uid 65534 to test EACCES";
    }
    status = *as_nobody;
  }
  close(fd);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_THAT(status.message(), HasSubstr("permission denied on callsd socket " + socket_));
  EXPECT_THAT(status.message(), HasSubstr("mode 0600"));
  ASSERT_TRUE(GetErrorInfo(status).has_value());
  EXPECT_THAT(GetErrorInfo(status)->hint(), HasSubstr("group"));
}

TEST_F(ClientTest, ConnectChecksTheSocketButMakesNoCall) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->socket_path(), socket_);
}

// ---------------------------------------------------------------------------
// Default socket path

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = getenv(name);
    if (old != nullptr) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_.has_value()) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(DefaultSocketPathTest, CallsdSocketWins) {
  ScopedEnv socket("CALLSD_SOCKET", "/x/y.sock");
  ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/1000");
  EXPECT_EQ(DefaultSocketPath(), "/x/y.sock");
}

TEST(DefaultSocketPathTest, ThenSystemSocketThenXdgRuntimeDir) {
  ScopedEnv socket("CALLSD_SOCKET", "");
  ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/1000");
  struct stat st;
  if (stat(kSystemSocketPath, &st) == 0) {
    EXPECT_EQ(DefaultSocketPath(), kSystemSocketPath);
  } else {
    EXPECT_EQ(DefaultSocketPath(), "/run/user/1000/callsd/callsd.sock");
    ScopedEnv no_xdg("XDG_RUNTIME_DIR", nullptr);
    EXPECT_EQ(DefaultSocketPath(), kSystemSocketPath);
  }
}

TEST_F(ClientTest, EmptySocketPathUsesTheDefault) {
  StartServer();
  ScopedEnv socket("CALLSD_SOCKET", socket_.c_str());
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect({});
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->socket_path(), socket_);
  EXPECT_TRUE((*client)->GetState({}).ok());
}

// ---------------------------------------------------------------------------
// Unary calls

TEST_F(ClientTest, EveryRpcSendsTheRequestAndReturnsTheResponse) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  v1::InitRequest init;
  init.set_app_id("demo-app");
  absl::StatusOr<v1::InitResponse> init_response = client->Init(init);
  ASSERT_TRUE(init_response.ok()) << init_response.status();
  EXPECT_TRUE(init_response->changed());
  EXPECT_EQ(init_response->previous_app_id(), "old-app");
  EXPECT_EQ(service_.last_app_id(), "demo-app");

  v1::AuthenticateRequest auth;
  auth.set_user_id("alice");
  auth.set_token_kind(v1::TOKEN_KIND_SESSION_TOKEN);
  auth.set_token("tok");
  absl::StatusOr<v1::AuthenticateResponse> auth_response = client->Authenticate(auth);
  ASSERT_TRUE(auth_response.ok()) << auth_response.status();
  EXPECT_EQ(auth_response->user().user_id(), "alice");
  EXPECT_EQ(auth_response->state().session_state(), v1::SESSION_STATE_AUTHENTICATED);
  EXPECT_EQ(service_.last_authenticate().token(), "tok");
  EXPECT_EQ(service_.last_authenticate().token_kind(), v1::TOKEN_KIND_SESSION_TOKEN);

  v1::DeauthenticateRequest deauth;
  deauth.set_keep_push_tokens(false);
  absl::StatusOr<v1::DeauthenticateResponse> deauth_response = client->Deauthenticate(deauth);
  ASSERT_TRUE(deauth_response.ok()) << deauth_response.status();
  EXPECT_EQ(deauth_response->pending_operations(), 3);

  v1::RefreshSessionTokenRequest refresh;
  refresh.set_token("12345");
  absl::StatusOr<v1::RefreshSessionTokenResponse> refresh_response =
      client->RefreshSessionToken(refresh);
  ASSERT_TRUE(refresh_response.ok()) << refresh_response.status();
  EXPECT_EQ(refresh_response->expires_at().seconds(), 5);

  absl::StatusOr<v1::State> state = client->GetState({});
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->app_id(), "demo-app");
  EXPECT_EQ(state->event_seq(), 17u);

  v1::RegisterPushTokenRequest reg;
  reg.set_type(v1::PUSH_TOKEN_TYPE_VOIP);
  reg.set_token("https://push.example/1");
  reg.set_unique(true);
  absl::StatusOr<v1::RegisterPushTokenResponse> reg_response = client->RegisterPushToken(reg);
  ASSERT_TRUE(reg_response.ok()) << reg_response.status();
  EXPECT_EQ(reg_response->token().token(), "https://push.example/1");
  EXPECT_EQ(reg_response->token().server_state(), v1::PUSH_TOKEN_SERVER_STATE_REGISTERED);

  v1::UnregisterPushTokenRequest unreg;
  unreg.set_token("https://push.example/confirmed");
  absl::StatusOr<v1::UnregisterPushTokenResponse> unreg_response =
      client->UnregisterPushToken(unreg);
  ASSERT_TRUE(unreg_response.ok()) << unreg_response.status();
  EXPECT_TRUE(unreg_response->server_confirmed());

  v1::UnregisterAllPushTokensRequest unreg_all;
  unreg_all.set_type(v1::PUSH_TOKEN_TYPE_REMOTE);
  absl::StatusOr<v1::UnregisterAllPushTokensResponse> unreg_all_response =
      client->UnregisterAllPushTokens(unreg_all);
  ASSERT_TRUE(unreg_all_response.ok()) << unreg_all_response.status();
  EXPECT_TRUE(unreg_all_response->server_confirmed());

  absl::StatusOr<v1::ListPushTokensResponse> list = client->ListPushTokens({});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->tokens_size(), 1);
  EXPECT_EQ(list->pending_unregistrations(), 4);
}

TEST_F(ClientTest, EveryCallRpcSendsTheRequestAndReturnsTheResponse) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  v1::DialRequest dial;
  dial.set_callee_id("bob");
  dial.set_video(true);
  absl::StatusOr<v1::DialResponse> dialed = client->Dial(dial);
  ASSERT_TRUE(dialed.ok()) << dialed.status();
  EXPECT_EQ(dialed->call().call_id(), "call-to-bob");
  EXPECT_EQ(dialed->call().state(), v1::CALL_STATE_DIALING);
  EXPECT_EQ(dialed->call().peer().user_id(), "bob");
  EXPECT_TRUE(dialed->call().video());
  EXPECT_EQ(service_.LastRequest<v1::DialRequest>("Dial").callee_id(), "bob");
  EXPECT_TRUE(service_.LastRequest<v1::DialRequest>("Dial").video());

  v1::AcceptRequest accept;
  accept.set_call_id("c-accept");
  absl::StatusOr<v1::AcceptResponse> accepted = client->Accept(accept);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->call().call_id(), "c-accept");
  EXPECT_EQ(accepted->call().state(), v1::CALL_STATE_ACCEPTING);

  v1::DeclineRequest decline;
  decline.set_call_id("c-decline");
  absl::StatusOr<v1::DeclineResponse> declined = client->Decline(decline);
  ASSERT_TRUE(declined.ok()) << declined.status();
  EXPECT_EQ(declined->call().call_id(), "c-decline");
  EXPECT_EQ(declined->call().end_result(), v1::END_RESULT_DECLINED);

  v1::EndRequest end;
  end.set_call_id("c-end");
  absl::StatusOr<v1::EndResponse> ended = client->End(end);
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(ended->call().call_id(), "c-end");
  EXPECT_EQ(ended->call().duration_ms(), 42000);

  v1::SetMutedRequest mute;
  mute.set_call_id("c-mute");
  mute.set_muted(true);
  absl::StatusOr<v1::SetMutedResponse> muted = client->SetMuted(mute);
  ASSERT_TRUE(muted.ok()) << muted.status();
  EXPECT_EQ(muted->call().call_id(), "c-mute");
  EXPECT_TRUE(muted->call().muted());
  mute.set_muted(false);
  muted = client->SetMuted(mute);
  ASSERT_TRUE(muted.ok()) << muted.status();
  EXPECT_FALSE(muted->call().muted());

  absl::StatusOr<v1::ListCallsResponse> calls = client->ListCalls({});
  ASSERT_TRUE(calls.ok()) << calls.status();
  ASSERT_EQ(calls->calls_size(), 2);
  EXPECT_EQ(calls->calls(0).call_id(), "ongoing");
  EXPECT_EQ(calls->calls(1).state(), v1::CALL_STATE_ENDED);

  v1::GetCallHistoryRequest history;
  history.set_limit(3);
  history.set_next("offline");
  absl::StatusOr<v1::GetCallHistoryResponse> log = client->GetCallHistory(history);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->calls_size(), 3);
  EXPECT_EQ(log->next(), "offline+1");
  EXPECT_TRUE(log->from_cache());

  v1::DeliverPushRequest push;
  // Bytes, not text: every byte value must arrive.
  std::string payload(4096, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i % 256);
  push.set_payload(payload);
  absl::StatusOr<v1::DeliverPushResponse> delivered = client->DeliverPush(push);
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(delivered->outcome(), v1::DeliverPushResponse::OUTCOME_RANG);
  EXPECT_EQ(delivered->call().call_id(), "pushed-4096");
  EXPECT_EQ(service_.LastRequest<v1::DeliverPushRequest>("DeliverPush").payload(), payload);
}

TEST_F(ClientTest, CallRpcErrorsKeepTheDaemonsErrorInfo) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  v1::ErrorInfo info;
  info.set_calls_code(1400101);
  info.set_message("invalid call status");
  info.set_hint("another client answered first");
  service_.SetError(RichError(grpc::StatusCode::FAILED_PRECONDITION,
                              "call c1 is ACCEPTING, not RINGING", info));
  const std::vector<absl::Status> statuses = {
      client->Dial({}).status(),     client->Accept({}).status(),
      client->Decline({}).status(),  client->End({}).status(),
      client->SetMuted({}).status(), client->ListCalls({}).status(),
      client->GetCallHistory({}).status(), client->DeliverPush({}).status(),
  };
  for (const absl::Status& status : statuses) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_EQ(status.message(), "call c1 is ACCEPTING, not RINGING");
    std::optional<v1::ErrorInfo> got = GetErrorInfo(status);
    ASSERT_TRUE(got.has_value()) << status;
    EXPECT_EQ(got->calls_code(), 1400101);
    EXPECT_EQ(got->hint(), "another client answered first");
  }

  // Deadlines apply to the new calls like to the others.
  service_.SetError(std::nullopt);
  service_.SetHang(true);
  std::unique_ptr<Client> impatient = MustConnect(absl::Milliseconds(200));
  ASSERT_NE(impatient, nullptr);
  absl::StatusOr<v1::AcceptResponse> accepted = impatient->Accept({});
  EXPECT_EQ(accepted.status().code(), absl::StatusCode::kDeadlineExceeded) << accepted.status();
  EXPECT_THAT(accepted.status().message(), HasSubstr("no answer from callsd on " + socket_));
}

TEST_F(ClientTest, EveryRoomRpcSendsTheRequestAndReturnsTheResponse) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  v1::CreateRoomRequest create;
  create.set_type(v1::ROOM_TYPE_LARGE);
  absl::StatusOr<v1::CreateRoomResponse> created = client->CreateRoom(create);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->room().room_id(), "room-large");
  EXPECT_EQ(created->room().max_participants(), 20);
  EXPECT_EQ(service_.LastRequest<v1::CreateRoomRequest>("CreateRoom").type(),
            v1::ROOM_TYPE_LARGE);

  v1::EnterRoomRequest enter;
  enter.set_room_id("r-enter");
  enter.set_muted(true);
  absl::StatusOr<v1::EnterRoomResponse> entered = client->EnterRoom(enter);
  ASSERT_TRUE(entered.ok()) << entered.status();
  EXPECT_EQ(entered->room().room_id(), "r-enter");
  EXPECT_EQ(entered->room().state(), v1::ROOM_STATE_ENTERED);
  EXPECT_TRUE(entered->room().muted());

  v1::ExitRoomRequest exit;
  exit.set_room_id("r-exit");
  absl::StatusOr<v1::ExitRoomResponse> exited = client->ExitRoom(exit);
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_EQ(exited->room().room_id(), "r-exit");
  EXPECT_EQ(exited->room().state(), v1::ROOM_STATE_EXITED);

  v1::SetRoomMutedRequest mute;
  mute.set_room_id("r-mute");
  mute.set_muted(true);
  absl::StatusOr<v1::SetRoomMutedResponse> muted = client->SetRoomMuted(mute);
  ASSERT_TRUE(muted.ok()) << muted.status();
  EXPECT_EQ(muted->room().room_id(), "r-mute");
  EXPECT_TRUE(muted->room().muted());
  mute.set_muted(false);
  muted = client->SetRoomMuted(mute);
  ASSERT_TRUE(muted.ok()) << muted.status();
  EXPECT_FALSE(muted->room().muted());

  v1::DeleteRoomRequest del;
  del.set_room_id("r-delete");
  ASSERT_TRUE(client->DeleteRoom(del).ok());
  EXPECT_EQ(service_.LastRequest<v1::DeleteRoomRequest>("DeleteRoom").room_id(), "r-delete");

  v1::GetRoomRequest get;
  get.set_room_id("r-get");
  absl::StatusOr<v1::GetRoomResponse> got = client->GetRoom(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->room().room_id(), "r-get");
  ASSERT_EQ(got->room().participants_size(), 2);
  EXPECT_TRUE(got->room().participants(1).muted());

  absl::StatusOr<v1::ListRoomsResponse> rooms = client->ListRooms({});
  ASSERT_TRUE(rooms.ok()) << rooms.status();
  ASSERT_EQ(rooms->rooms_size(), 2);
  EXPECT_EQ(rooms->rooms(1).room_id(), "r2");
}

TEST_F(ClientTest, RoomRpcErrorsKeepTheDaemonsErrorInfo) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  v1::ErrorInfo info;
  info.set_calls_code(1400120);
  info.set_message("participant limit reached");
  service_.SetError(
      RichError(grpc::StatusCode::FAILED_PRECONDITION, "room r1 is full (6 of 6)", info));
  const std::vector<absl::Status> statuses = {
      client->CreateRoom({}).status(),   client->EnterRoom({}).status(),
      client->ExitRoom({}).status(),     client->SetRoomMuted({}).status(),
      client->DeleteRoom({}).status(),   client->GetRoom({}).status(),
      client->ListRooms({}).status(),
  };
  for (const absl::Status& status : statuses) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_EQ(status.message(), "room r1 is full (6 of 6)");
    std::optional<v1::ErrorInfo> got = GetErrorInfo(status);
    ASSERT_TRUE(got.has_value()) << status;
    EXPECT_EQ(got->calls_code(), 1400120);
  }

  service_.SetError(std::nullopt);
  service_.SetHang(true);
  std::unique_ptr<Client> impatient = MustConnect(absl::Milliseconds(200));
  ASSERT_NE(impatient, nullptr);
  absl::StatusOr<v1::EnterRoomResponse> entered = impatient->EnterRoom({});
  EXPECT_EQ(entered.status().code(), absl::StatusCode::kDeadlineExceeded) << entered.status();
  EXPECT_THAT(entered.status().message(), HasSubstr("no answer from callsd on " + socket_));
}

// A daemon from before the call methods: GetState only; everything else is
// gRPC's bare UNIMPLEMENTED.
class OlderCallsService final : public v1::Calls::Service {
 public:
  grpc::Status GetState(grpc::ServerContext*, const v1::GetStateRequest*,
                        v1::State* response) override {
    response->set_app_id("old-daemon");
    return grpc::Status::OK;
  }
};

TEST_F(ClientTest, OlderDaemonWithoutCallMethodsIsUnimplementedNamingTheMethod) {
  OlderCallsService older;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
  builder.RegisterService(&older);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  {
    std::unique_ptr<Client> client = MustConnect();
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->GetState({}).ok());
    absl::StatusOr<v1::DialResponse> dialed = client->Dial({});
    EXPECT_EQ(dialed.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(dialed.status().message(),
                HasSubstr("callsd on " + socket_ + " does not implement Dial (an older daemon?)"));
    ASSERT_TRUE(GetErrorInfo(dialed.status()).has_value());
    EXPECT_THAT(GetErrorInfo(dialed.status())->hint(), HasSubstr("update callsd"));
    EXPECT_THAT(client->DeliverPush({}).status().message(),
                HasSubstr("does not implement DeliverPush"));
    EXPECT_THAT(client->EnterRoom({}).status().message(),
                HasSubstr("does not implement EnterRoom (an older daemon?)"));
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  server->Wait();
}

TEST_F(ClientTest, RichErrorKeepsCodeMessageAndErrorInfo) {
  StartServer();
  v1::ErrorInfo info;
  info.set_calls_code(400302);
  info.set_message("invalid access token");
  info.set_field("token");
  info.set_tier("admin");
  info.set_hint("ask the app's backend for a new access token");
  // Another detail first: the client must find the ErrorInfo among them.
  google::protobuf::Timestamp other;
  other.set_seconds(1);
  service_.SetError(
      RichError(grpc::StatusCode::UNAUTHENTICATED, "invalid access token", info, &other));
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  absl::StatusOr<v1::AuthenticateResponse> response = client->Authenticate({});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(response.status().message(), "invalid access token");
  std::optional<v1::ErrorInfo> got = GetErrorInfo(response.status());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->calls_code(), 400302);
  EXPECT_EQ(got->message(), "invalid access token");
  EXPECT_EQ(got->field(), "token");
  EXPECT_EQ(got->tier(), "admin");
  EXPECT_EQ(got->hint(), "ask the app's backend for a new access token");
  // Stored under the documented type URL.
  EXPECT_TRUE(response.status().GetPayload(kErrorInfoTypeUrl).has_value());
}

TEST_F(ClientTest, EveryStatusCodeSurvivesTheTrip) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  for (grpc::StatusCode code :
       {grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::NOT_FOUND,
        grpc::StatusCode::FAILED_PRECONDITION, grpc::StatusCode::PERMISSION_DENIED,
        grpc::StatusCode::RESOURCE_EXHAUSTED, grpc::StatusCode::INTERNAL}) {
    v1::ErrorInfo info;
    info.set_calls_code(1800302);
    service_.SetError(RichError(code, "failed", info));
    absl::StatusOr<v1::State> state = client->GetState({});
    EXPECT_EQ(static_cast<int>(state.status().code()), static_cast<int>(code));
    ASSERT_TRUE(GetErrorInfo(state.status()).has_value());
    EXPECT_EQ(GetErrorInfo(state.status())->calls_code(), 1800302);
  }
}

TEST_F(ClientTest, ErrorWithoutOrWithBrokenDetailsHasNoErrorInfo) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  service_.SetError(grpc::Status(grpc::StatusCode::INTERNAL, "plain"));
  absl::StatusOr<v1::State> state = client->GetState({});
  EXPECT_EQ(state.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(state.status().message(), "plain");
  EXPECT_FALSE(GetErrorInfo(state.status()).has_value());

  service_.SetError(grpc::Status(grpc::StatusCode::INTERNAL, "garbage", "\xff\xff\xff not proto"));
  state = client->GetState({});
  EXPECT_EQ(state.status().message(), "garbage");
  EXPECT_FALSE(GetErrorInfo(state.status()).has_value());
}

TEST(ErrorInfoPayloadTest, RoundTripAndOkStatus) {
  v1::ErrorInfo info;
  info.set_calls_code(7);
  absl::Status status = WithErrorInfo(absl::InternalError("x"), info);
  ASSERT_TRUE(GetErrorInfo(status).has_value());
  EXPECT_EQ(GetErrorInfo(status)->calls_code(), 7);
  EXPECT_TRUE(WithErrorInfo(absl::OkStatus(), info).ok());
  EXPECT_FALSE(GetErrorInfo(absl::OkStatus()).has_value());
  EXPECT_FALSE(GetErrorInfo(absl::InternalError("no payload")).has_value());
}

TEST_F(ClientTest, ServerThatNeverAnswersGivesDeadlineExceededWithinTheDeadline) {
  StartServer();
  service_.SetHang(true);
  // Long enough for an answering call to fit in it under sanitizer slowdown
  // and a loaded machine (the last step below).
  const absl::Duration deadline = absl::Seconds(2);
  std::unique_ptr<Client> client = MustConnect(deadline);
  ASSERT_NE(client, nullptr);

  const absl::Time start = absl::Now();
  absl::StatusOr<v1::State> state = client->GetState({});
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(state.status().code(), absl::StatusCode::kDeadlineExceeded) << state.status();
  EXPECT_THAT(state.status().message(), HasSubstr("no answer from callsd on " + socket_));
  EXPECT_GE(elapsed, deadline - absl::Milliseconds(20));
  EXPECT_LT(elapsed, deadline + absl::Seconds(5));
  // The server saw the call cancelled.
  EXPECT_TRUE(service_.WaitForUnaryCancels(1, kWait));

  // The deadline is per call: the next call has a fresh one.
  service_.SetHang(false);
  absl::StatusOr<v1::State> next = client->GetState({});
  EXPECT_TRUE(next.ok()) << next.status();
}

TEST_F(ClientTest, DaemonGoneAfterConnectIsUnavailableNamingTheSocket) {
  StartServer();
  std::unique_ptr<Client> client = MustConnect(absl::Seconds(5));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->GetState({}).ok());
  StopServer();
  absl::StatusOr<v1::State> state = client->GetState({});
  EXPECT_EQ(state.status().code(), absl::StatusCode::kUnavailable) << state.status();
  EXPECT_THAT(state.status().message(), HasSubstr(socket_));
}

// ---------------------------------------------------------------------------
// Watch

// Collects what a Watch delivers.
class Recorder {
 public:
  EventCallback OnEvent() {
    return [this](const v1::Event& event) {
      if (unsubscribed_.load()) late_callbacks_.fetch_add(1);
      absl::MutexLock lock(&mu_);
      seqs_.push_back(event.seq());
      if (event.has_snapshot()) ++snapshots_;
    };
  }
  EndCallback OnEnd() {
    return [this](absl::Status status) {
      if (unsubscribed_.load()) late_callbacks_.fetch_add(1);
      absl::MutexLock lock(&mu_);
      EXPECT_FALSE(end_.has_value()) << "on_end called twice";
      end_ = std::move(status);
    };
  }

  bool WaitForEvents(size_t count) {
    absl::MutexLock lock(&mu_);
    auto ready = [this, count]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return seqs_.size() >= count || end_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), kWait);
    return seqs_.size() >= count;
  }
  std::optional<absl::Status> WaitForEnd() {
    absl::MutexLock lock(&mu_);
    auto ended = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return end_.has_value(); };
    mu_.AwaitWithTimeout(absl::Condition(&ended), kWait);
    return end_;
  }

  // Call right after the Subscription is destroyed: any callback after this
  // breaks the contract.
  void MarkUnsubscribed() { unsubscribed_.store(true); }
  int late_callbacks() const { return late_callbacks_.load(); }

  std::vector<uint64_t> seqs() {
    absl::MutexLock lock(&mu_);
    return seqs_;
  }
  int snapshots() {
    absl::MutexLock lock(&mu_);
    return snapshots_;
  }
  std::optional<absl::Status> end() {
    absl::MutexLock lock(&mu_);
    return end_;
  }

 private:
  std::atomic<bool> unsubscribed_{false};
  std::atomic<int> late_callbacks_{0};
  absl::Mutex mu_;
  std::vector<uint64_t> seqs_ ABSL_GUARDED_BY(mu_);
  int snapshots_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Status> end_ ABSL_GUARDED_BY(mu_);
};

std::vector<uint64_t> OneTo(uint64_t n) {
  std::vector<uint64_t> seqs;
  for (uint64_t i = 1; i <= n; ++i) seqs.push_back(i);
  return seqs;
}

TEST_F(ClientTest, WatchDeliversEveryEventInOrderThenTheEnd) {
  StartServer();
  service_.SetWatch(TestCallsService::WatchMode::kFinite, 200);
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  Recorder recorder;
  std::unique_ptr<Subscription> subscription = client->Watch(recorder.OnEvent(), recorder.OnEnd());
  std::optional<absl::Status> end = recorder.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->ok()) << *end;
  EXPECT_THAT(recorder.seqs(), ElementsAreArray(OneTo(200)));
  EXPECT_EQ(recorder.snapshots(), 1);
}

TEST_F(ClientTest, WatchEndingWithARichErrorDeliversIt) {
  StartServer();
  v1::ErrorInfo info;
  info.set_hint("watch again, and keep up");
  service_.SetWatch(TestCallsService::WatchMode::kFinite, 3,
                    RichError(grpc::StatusCode::RESOURCE_EXHAUSTED, "watcher fell behind", info));
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  Recorder recorder;
  std::unique_ptr<Subscription> subscription = client->Watch(recorder.OnEvent(), recorder.OnEnd());
  std::optional<absl::Status> end = recorder.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(end->message(), "watcher fell behind");
  ASSERT_TRUE(GetErrorInfo(*end).has_value());
  EXPECT_EQ(GetErrorInfo(*end)->hint(), "watch again, and keep up");
  EXPECT_THAT(recorder.seqs(), ElementsAreArray(OneTo(3)));
}

TEST_F(ClientTest, WatchRefusedAtOnceCallsOnlyTheEnd) {
  StartServer();
  v1::ErrorInfo info;
  info.set_tier("read");
  service_.SetWatch(TestCallsService::WatchMode::kFinite, 0,
                    RichError(grpc::StatusCode::PERMISSION_DENIED, "needs read", info));
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  Recorder recorder;
  std::unique_ptr<Subscription> subscription = client->Watch(recorder.OnEvent(), recorder.OnEnd());
  std::optional<absl::Status> end = recorder.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(GetErrorInfo(*end)->tier(), "read");
  EXPECT_TRUE(recorder.seqs().empty());
}

TEST_F(ClientTest, DestroyingTheSubscriptionWhileEventsFlowCancelsPromptly) {
  StartServer();
  service_.SetWatch(TestCallsService::WatchMode::kEndless);
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  Recorder recorder;
  std::unique_ptr<Subscription> subscription = client->Watch(recorder.OnEvent(), recorder.OnEnd());
  ASSERT_TRUE(recorder.WaitForEvents(500));

  const absl::Time start = absl::Now();
  subscription.reset();
  recorder.MarkUnsubscribed();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));

  // The server sees the stream end; nothing reaches the callbacks any more.
  EXPECT_TRUE(service_.WaitForWatchesDone(1, kWait));
  EXPECT_EQ(service_.watch_cancels(), 1);
  EXPECT_EQ(recorder.late_callbacks(), 0);
  EXPECT_FALSE(recorder.end().has_value()) << "on_end must not run after a cancel";
  // Still in order, without gaps.
  std::vector<uint64_t> seqs = recorder.seqs();
  EXPECT_THAT(seqs, ElementsAreArray(OneTo(seqs.size())));
}

TEST_F(ClientTest, CancelWaitsForTheRunningCallback) {
  StartServer();
  service_.SetWatch(TestCallsService::WatchMode::kEndless);
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  absl::Notification in_callback;
  absl::Notification release;
  std::atomic<bool> callback_returned{false};
  std::atomic<int> calls{0};
  std::unique_ptr<Subscription> subscription = client->Watch(
      [&](const v1::Event& event) {
        if (calls.fetch_add(1) != 10) return;
        in_callback.Notify();
        EXPECT_TRUE(release.WaitForNotificationWithTimeout(kWait));
        callback_returned.store(true);
      },
      [](absl::Status) {});
  ASSERT_TRUE(in_callback.WaitForNotificationWithTimeout(kWait));

  absl::Notification reset_done;
  bool callback_returned_before_reset = false;
  std::thread destroyer([&] {
    subscription.reset();
    callback_returned_before_reset = callback_returned.load();
    reset_done.Notify();
  });
  // While the callback is blocked, the destructor must not return.
  EXPECT_FALSE(reset_done.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  release.Notify();
  EXPECT_TRUE(reset_done.WaitForNotificationWithTimeout(kWait));
  destroyer.join();
  EXPECT_TRUE(callback_returned_before_reset);
  EXPECT_EQ(calls.load(), 11) << "no event after the cancel";
  EXPECT_TRUE(service_.WaitForWatchesDone(1, kWait));
}

TEST_F(ClientTest, DestroyingTheSubscriptionFromItsOwnCallbackDoesNotDeadlock) {
  StartServer();
  service_.SetWatch(TestCallsService::WatchMode::kEndless);
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);

  absl::Mutex mu;
  std::unique_ptr<Subscription> subscription;
  int events = 0;
  absl::Notification destroyed;
  auto on_event = [&](const v1::Event&) {
    std::unique_ptr<Subscription> doomed;
    {
      absl::MutexLock lock(&mu);
      ++events;
      if (events == 5) doomed = std::move(subscription);
    }
    if (doomed != nullptr) {
      doomed.reset();  // Cancel from inside: must return without waiting for itself.
      destroyed.Notify();
    }
  };
  {
    absl::MutexLock lock(&mu);
    // Hold the lock so that the callbacks see the subscription only once set.
    subscription = client->Watch(on_event, [](absl::Status) {});
  }
  ASSERT_TRUE(destroyed.WaitForNotificationWithTimeout(kWait));
  EXPECT_TRUE(service_.WaitForWatchesDone(1, kWait));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(events, 5);
}

TEST_F(ClientTest, IdleStreamCancelsPromptly) {
  StartServer();
  service_.SetWatch(TestCallsService::WatchMode::kIdle);
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  Recorder recorder;
  std::unique_ptr<Subscription> subscription = client->Watch(recorder.OnEvent(), recorder.OnEnd());
  ASSERT_TRUE(recorder.WaitForEvents(1));

  const absl::Time start = absl::Now();
  subscription->Cancel();
  subscription->Cancel();  // Idempotent.
  recorder.MarkUnsubscribed();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(service_.WaitForWatchesDone(1, kWait));
  subscription.reset();
  EXPECT_EQ(recorder.late_callbacks(), 0);
  EXPECT_EQ(recorder.snapshots(), 1);
  EXPECT_FALSE(recorder.end().has_value());
}

TEST_F(ClientTest, DestroyingTheClientCancelsItsStreamsAndSubscriptionsMayOutliveIt) {
  StartServer();
  service_.SetWatch(TestCallsService::WatchMode::kEndless);
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  Recorder endless;
  std::unique_ptr<Subscription> first = client->Watch(endless.OnEvent(), endless.OnEnd());
  ASSERT_TRUE(endless.WaitForEvents(100));  // The server has picked its mode.
  service_.SetWatch(TestCallsService::WatchMode::kIdle);
  Recorder idle;
  std::unique_ptr<Subscription> second = client->Watch(idle.OnEvent(), idle.OnEnd());
  ASSERT_TRUE(idle.WaitForEvents(1));

  const absl::Time start = absl::Now();
  client.reset();
  endless.MarkUnsubscribed();
  idle.MarkUnsubscribed();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(service_.WaitForWatchesDone(2, kWait));
  first.reset();  // Already cancelled: returns at once.
  second.reset();
  EXPECT_EQ(endless.late_callbacks(), 0);
  EXPECT_EQ(idle.late_callbacks(), 0);
  EXPECT_FALSE(endless.end().has_value());
  EXPECT_FALSE(idle.end().has_value());
}

TEST_F(ClientTest, DaemonStoppingEndsTheWatchWithAnError) {
  StartServer();
  service_.SetWatch(TestCallsService::WatchMode::kIdle);
  std::unique_ptr<Client> client = MustConnect();
  ASSERT_NE(client, nullptr);
  Recorder recorder;
  std::unique_ptr<Subscription> subscription = client->Watch(recorder.OnEvent(), recorder.OnEnd());
  ASSERT_TRUE(recorder.WaitForEvents(1));
  StopServer();
  std::optional<absl::Status> end = recorder.WaitForEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->ok());
}

// ---------------------------------------------------------------------------
// callsctl over the real socket

class CallsctlOverSocketTest : public ClientTest {
 protected:
  int Run(const std::vector<std::string>& args) {
    ctl::CallsctlEnv env = ctl::DefaultEnv();
    env.in = &in_;
    env.out = &out_;
    env.err = &err_;
    std::vector<std::string> full = {"--socket", socket_};
    full.insert(full.end(), args.begin(), args.end());
    return ctl::RunCallsctl(full, env);
  }
  std::istringstream in_;
  std::ostringstream out_, err_;
};

TEST_F(CallsctlOverSocketTest, StatusJson) {
  StartServer();
  EXPECT_EQ(Run({"status", "--json"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr(R"("app_id": "demo-app")"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("session_state": "SESSION_STATE_LOGGED_OUT")"));
}

TEST_F(CallsctlOverSocketTest, LoginErrorWithHint) {
  StartServer();
  v1::ErrorInfo info;
  info.set_calls_code(1800302);
  info.set_hint("run 'callsctl init APP_ID' first");
  service_.SetError(
      RichError(grpc::StatusCode::FAILED_PRECONDITION, "instance not initialized", info));
  in_.str("tok\n");
  EXPECT_EQ(Run({"login", "alice", "--token-stdin"}), 1);
  EXPECT_EQ(err_.str(),
            "callsctl: login: instance not initialized (Calls code 1800302)\n"
            "hint: run 'callsctl init APP_ID' first\n");
  EXPECT_EQ(service_.last_authenticate().token(), "tok");
}

TEST_F(CallsctlOverSocketTest, NoDaemon) {
  EXPECT_EQ(Run({"status"}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("callsctl: status: callsd is not running: socket " + socket_));
  EXPECT_THAT(err_.str(), HasSubstr("\nhint: "));
}

TEST_F(CallsctlOverSocketTest, Dial) {
  StartServer();
  EXPECT_EQ(Run({"dial", "bob", "--video"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "calling bob (video): call call-to-bob (DIALING)\n");
  EXPECT_EQ(service_.LastRequest<v1::DialRequest>("Dial").callee_id(), "bob");
}

TEST_F(CallsctlOverSocketTest, PushDeliverSendsStdin) {
  StartServer();
  const std::string payload(4096, 'p');
  in_.str(payload + "\n");
  EXPECT_EQ(Run({"push", "deliver"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "rang: call pushed-4096 from alice\n");
  EXPECT_EQ(service_.LastRequest<v1::DeliverPushRequest>("DeliverPush").payload(), payload);
}

TEST_F(CallsctlOverSocketTest, HistoryAsksForThePageAndTheUser) {
  StartServer();
  EXPECT_EQ(Run({"history", "--limit", "1", "--next", "offline"}), 0) << err_.str();
  v1::GetCallHistoryRequest request =
      service_.LastRequest<v1::GetCallHistoryRequest>("GetCallHistory");
  EXPECT_EQ(request.limit(), 1);
  EXPECT_EQ(request.next(), "offline");
  EXPECT_THAT(out_.str(), HasSubstr("log-0\n"));
  EXPECT_THAT(out_.str(), HasSubstr("(from the local cache: the server could not be reached)\n"));
  EXPECT_THAT(out_.str(), HasSubstr("next page: callsctl history --limit 1 --next offline+1\n"));
}

TEST_F(CallsctlOverSocketTest, CallCommandAgainstAnOlderDaemon) {
  OlderCallsService older;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
  builder.RegisterService(&older);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Run({"accept", "c1"}), 1);
  EXPECT_EQ(err_.str(), "callsctl: accept: callsd on " + socket_ +
                            " does not implement Accept (an older daemon?)\n"
                            "hint: update callsd to the version of this client (or use an "
                            "older client)\n");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  server->Wait();
}

TEST_F(CallsctlOverSocketTest, WatchEndsWithTheStream) {
  StartServer();
  service_.SetWatch(TestCallsService::WatchMode::kFinite, 3,
                    grpc::Status(grpc::StatusCode::UNAVAILABLE, "daemon shutting down"));
  EXPECT_EQ(Run({"watch", "--json"}), 1);
  std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr(R"("seq":"1")"));
  EXPECT_THAT(lines[2], HasSubstr(R"("seq":"3")"));
  EXPECT_EQ(err_.str(), "callsctl: watch: daemon shutting down\n");
}

}  // namespace
}  // namespace callsd::client
