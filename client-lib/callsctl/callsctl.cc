#include "client-lib/callsctl/callsctl.h"

#include <iostream>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client-lib/callsctl/args.h"
#include "client-lib/callsctl/output.h"
#include "client-lib/callsctl/payload.h"
#include "client-lib/callsctl/token.h"

namespace callsd::ctl {
namespace {

namespace v1 = ::callsd::v1;

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// " (AUTHENTICATED)", or "" when the response carries no state.
std::string StateSuffix(const v1::State& state) {
  if (state.session_state() == v1::SESSION_STATE_UNSPECIFIED) return "";
  return absl::StrCat(" (", SessionStateName(state.session_state()), ")");
}

// One command run: the parsed invocation, the connection and the streams.
class CommandRunner {
 public:
  // `input`: the token (login, refresh-token) or the push payload (push
  // deliver) read before connecting.
  CommandRunner(const Invocation& inv, const CallsctlEnv& env, client::Client& client,
                std::string input)
      : inv_(inv), env_(env), client_(client), input_(std::move(input)) {}

  int Run() {
    switch (inv_.command) {
      case Command::kStatus:
        return Status();
      case Command::kInit:
        return Init();
      case Command::kLogin:
        return Login();
      case Command::kLogout:
        return Logout();
      case Command::kRefreshToken:
        return RefreshToken();
      case Command::kWatch:
        return Watch();
      case Command::kPushRegister:
        return PushRegister();
      case Command::kPushUnregister:
        return PushUnregister();
      case Command::kPushUnregisterAll:
        return PushUnregisterAll();
      case Command::kPushList:
        return PushList();
      case Command::kPushDeliver:
        return PushDeliver();
      case Command::kDial:
        return Dial();
      case Command::kAccept:
        return Accept();
      case Command::kDecline:
        return Decline();
      case Command::kEnd:
        return End();
      case Command::kMute:
      case Command::kUnmute:
        return SetMuted(inv_.command == Command::kMute);
      case Command::kCalls:
        return Calls();
      case Command::kHistory:
        return History();
      case Command::kRoomCreate:
        return RoomCreate();
      case Command::kRoomEnter:
        return RoomEnter();
      case Command::kRoomExit:
        return RoomExit();
      case Command::kRoomShow:
        return RoomShow();
      case Command::kRoomList:
        return RoomList();
      case Command::kRoomMute:
      case Command::kRoomUnmute:
        return RoomSetMuted(inv_.command == Command::kRoomMute);
      case Command::kRoomDelete:
        return RoomDelete();
      case Command::kHelp:
        break;
    }
    return kExitUsage;
  }

 private:
  TimeContext Times() const { return TimeContext{env_.now(), env_.zone}; }

  int Fail(const absl::Status& status) {
    *env_.err << FormatCommandError(inv_.name, status) << std::flush;
    return kExitError;
  }

  // With --json: prints `message` and returns true.
  bool MaybeJson(const google::protobuf::Message& message, int* exit_code) {
    if (!inv_.global.json) return false;
    absl::StatusOr<std::string> json = ToJson(message, /*pretty=*/true);
    if (!json.ok()) {
      *exit_code = Fail(json.status());
      return true;
    }
    *env_.out << *json << "\n" << std::flush;
    *exit_code = kExitOk;
    return true;
  }

  int Print(const std::string& text) {
    *env_.out << text << std::flush;
    return kExitOk;
  }

  int Status() {
    absl::StatusOr<v1::State> state = client_.GetState(v1::GetStateRequest());
    if (!state.ok()) return Fail(state.status());
    int code;
    if (MaybeJson(*state, &code)) return code;
    return Print(FormatState(*state, Times()));
  }

  int Init() {
    v1::InitRequest request;
    request.set_app_id(inv_.app_id);
    absl::StatusOr<v1::InitResponse> response = client_.Init(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    if (!response->changed()) {
      return Print(absl::StrCat(inv_.app_id, " was already initialized (no change)\n"));
    }
    if (response->previous_app_id().empty()) {
      return Print(absl::StrCat("initialized ", inv_.app_id, "\n"));
    }
    return Print(absl::StrCat("initialized ", inv_.app_id, " (replaced ",
                              response->previous_app_id(),
                              ": its user, session, push tokens and calls were cleared)\n"));
  }

  int Login() {
    v1::AuthenticateRequest request;
    request.set_user_id(inv_.user_id);
    request.set_token_kind(inv_.session_token ? v1::TOKEN_KIND_SESSION_TOKEN
                                              : v1::TOKEN_KIND_ACCESS_TOKEN);
    request.set_token(input_);
    absl::StatusOr<v1::AuthenticateResponse> response = client_.Authenticate(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    const std::string& user =
        response->user().user_id().empty() ? inv_.user_id : response->user().user_id();
    std::string text = absl::StrCat("logged in as ", user, StateSuffix(response->state()));
    if (response->state().has_token_expires_at()) {
      absl::StrAppend(&text, ", session token expires ",
                      FormatTimeWithRelative(ToTime(response->state().token_expires_at()), Times()));
    }
    return Print(absl::StrCat(text, "\n"));
  }

  int Logout() {
    v1::DeauthenticateRequest request;
    request.set_keep_push_tokens(inv_.keep_push_tokens);
    absl::StatusOr<v1::DeauthenticateResponse> response = client_.Deauthenticate(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    std::string text = absl::StrCat("logged out", StateSuffix(response->state()));
    if (!response->server_confirmed()) {
      const int pending = response->pending_operations();
      absl::StrAppend(&text, "; the server has not confirmed yet",
                      pending > 0 ? absl::StrCat(": ", pending,
                                                 pending == 1 ? " clean-up" : " clean-ups",
                                                 " queued and retried in the background")
                                  : "");
    }
    return Print(absl::StrCat(text, "\n"));
  }

  int RefreshToken() {
    v1::RefreshSessionTokenRequest request;
    request.set_token(input_);
    absl::StatusOr<v1::RefreshSessionTokenResponse> response =
        client_.RefreshSessionToken(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    std::string text =
        absl::StrCat("session token refreshed", StateSuffix(response->state()));
    if (response->has_expires_at()) {
      absl::StrAppend(&text, ", expires ",
                      FormatTimeWithRelative(ToTime(response->expires_at()), Times()));
    }
    return Print(absl::StrCat(text, "\n"));
  }

  int PushRegister() {
    v1::RegisterPushTokenRequest request;
    request.set_type(inv_.push_type);
    request.set_token(inv_.url);
    request.set_unique(inv_.unique);
    absl::StatusOr<v1::RegisterPushTokenResponse> response = client_.RegisterPushToken(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    const v1::PushToken& token = response->token();
    std::string state = PushStateName(token.server_state());
    switch (token.server_state()) {
      case v1::PUSH_TOKEN_SERVER_STATE_PENDING:
        absl::StrAppend(&state, ": not confirmed by the server yet");
        break;
      case v1::PUSH_TOKEN_SERVER_STATE_FAILED:
        absl::StrAppend(&state, ": ", FormatErrorInfo(token.error()));
        break;
      default:
        break;
    }
    return Print(
        absl::StrCat("registered ", PushTypeName(inv_.push_type), " token (", state, ")\n"));
  }

  static std::string Confirmation(bool server_confirmed) {
    return server_confirmed ? "" : " (the server will be told when it can be reached)";
  }

  int PushUnregister() {
    v1::UnregisterPushTokenRequest request;
    request.set_type(inv_.push_type);
    request.set_token(inv_.url);
    absl::StatusOr<v1::UnregisterPushTokenResponse> response =
        client_.UnregisterPushToken(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat("unregistered ", PushTypeName(inv_.push_type), " token",
                              Confirmation(response->server_confirmed()), "\n"));
  }

  int PushUnregisterAll() {
    v1::UnregisterAllPushTokensRequest request;
    request.set_type(inv_.push_type);
    absl::StatusOr<v1::UnregisterAllPushTokensResponse> response =
        client_.UnregisterAllPushTokens(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat("unregistered all ", PushTypeName(inv_.push_type), " tokens",
                              Confirmation(response->server_confirmed()), "\n"));
  }

  int PushList() {
    absl::StatusOr<v1::ListPushTokensResponse> response =
        client_.ListPushTokens(v1::ListPushTokensRequest());
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(FormatPushTokens(*response, Times()));
  }

  int PushDeliver() {
    v1::DeliverPushRequest request;
    request.set_payload(input_);
    absl::StatusOr<v1::DeliverPushResponse> response = client_.DeliverPush(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat(FormatPushOutcome(*response), "\n"));
  }

  int Dial() {
    v1::DialRequest request;
    request.set_callee_id(inv_.callee_id);
    request.set_video(inv_.video);
    absl::StatusOr<v1::DialResponse> response = client_.Dial(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    const v1::Call& call = response->call();
    const std::string peer =
        call.callee().user_id().empty() ? inv_.callee_id : call.callee().user_id();
    return Print(absl::StrCat("calling ", peer, inv_.video ? " (video)" : "", ": call ",
                              call.call_id(), " (", CallStateName(call.state()), ")\n"));
  }

  int Accept() {
    v1::AcceptRequest request;
    request.set_call_id(inv_.call_id);
    absl::StatusOr<v1::AcceptResponse> response = client_.Accept(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat("accepted ", CallSummary(response->call()), "\n"));
  }

  int Decline() {
    v1::DeclineRequest request;
    request.set_call_id(inv_.call_id);
    absl::StatusOr<v1::DeclineResponse> response = client_.Decline(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat("declined ", CallSummary(response->call()), "\n"));
  }

  int End() {
    v1::EndRequest request;
    request.set_call_id(inv_.call_id);
    absl::StatusOr<v1::EndResponse> response = client_.End(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat("ended ", CallSummary(response->call()), "\n"));
  }

  int SetMuted(bool muted) {
    v1::SetMutedRequest request;
    request.set_call_id(inv_.call_id);
    request.set_muted(muted);
    absl::StatusOr<v1::SetMutedResponse> response = client_.SetMuted(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat(muted ? "muted " : "unmuted ", CallSummary(response->call()), "\n"));
  }

  int Calls() {
    absl::StatusOr<v1::ListCallsResponse> response = client_.ListCalls(v1::ListCallsRequest());
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(FormatCalls(*response, Times()));
  }

  int History() {
    v1::GetCallHistoryRequest request;
    request.set_limit(inv_.history_limit);
    request.set_next(inv_.history_next);
    absl::StatusOr<v1::GetCallHistoryResponse> response = client_.GetCallHistory(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    // Who is logged in tells which side of each logged call was ours. The
    // daemon answered just now, so this rarely fails; without it, each
    // call's own direction is shown.
    std::string user_id;
    if (absl::StatusOr<v1::State> state = client_.GetState(v1::GetStateRequest()); state.ok()) {
      user_id = state->user().user_id();
    }
    return Print(FormatCallHistory(*response, user_id, inv_.history_limit, Times()));
  }

  // Prints the id alone, for ROOM=$(callsctl room create).
  int RoomCreate() {
    v1::CreateRoomRequest request;
    request.set_type(inv_.room_type);
    absl::StatusOr<v1::CreateRoomResponse> response = client_.CreateRoom(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat(response->room().room_id(), "\n"));
  }

  int RoomEnter() {
    v1::EnterRoomRequest request;
    request.set_room_id(inv_.room_id);
    request.set_muted(inv_.room_muted);
    absl::StatusOr<v1::EnterRoomResponse> response = client_.EnterRoom(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat("entered ", RoomSummary(response->room()), "\n"));
  }

  int RoomExit() {
    v1::ExitRoomRequest request;
    request.set_room_id(inv_.room_id);
    absl::StatusOr<v1::ExitRoomResponse> response = client_.ExitRoom(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat("exited room ", inv_.room_id, "\n"));
  }

  int RoomShow() {
    v1::GetRoomRequest request;
    request.set_room_id(inv_.room_id);
    absl::StatusOr<v1::GetRoomResponse> response = client_.GetRoom(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(FormatRoom(response->room(), Times()));
  }

  int RoomList() {
    absl::StatusOr<v1::ListRoomsResponse> response = client_.ListRooms(v1::ListRoomsRequest());
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(FormatRooms(*response));
  }

  int RoomSetMuted(bool muted) {
    v1::SetRoomMutedRequest request;
    request.set_room_id(inv_.room_id);
    request.set_muted(muted);
    absl::StatusOr<v1::SetRoomMutedResponse> response = client_.SetRoomMuted(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat(muted ? "muted in room " : "unmuted in room ", inv_.room_id, "\n"));
  }

  int RoomDelete() {
    v1::DeleteRoomRequest request;
    request.set_room_id(inv_.room_id);
    absl::StatusOr<v1::DeleteRoomResponse> response = client_.DeleteRoom(request);
    if (!response.ok()) return Fail(response.status());
    int code;
    if (MaybeJson(*response, &code)) return code;
    return Print(absl::StrCat("deleted room ", inv_.room_id, "\n"));
  }

  // "room R (small, 2/6 participants, muted)".
  std::string RoomSummary(const v1::Room& room) const {
    const std::string id = room.room_id().empty() ? inv_.room_id : room.room_id();
    std::string text = absl::StrCat("room ", id, " (", RoomTypeName(room.type()), ", ",
                                    room.participants_size());
    if (room.max_participants() > 0) absl::StrAppend(&text, "/", room.max_participants());
    absl::StrAppend(&text, " participants");
    if (room.muted()) absl::StrAppend(&text, ", muted");
    return absl::StrCat(text, ")");
  }

  // "call ID from alice (ACCEPTING)", "call ID with bob (ENDED: completed,
  // 0:42)": the call, its other side, its state or end.
  std::string CallSummary(const v1::Call& call) const {
    const std::string id = call.call_id().empty() ? inv_.call_id : call.call_id();
    std::string text = absl::StrCat("call ", id);
    const std::string peer = CallPeerId(call);
    if (peer != "?") {
      absl::StrAppend(&text, call.direction() == v1::CALL_DIRECTION_INCOMING ? " from " : " with ",
                      peer);
    }
    absl::StrAppend(&text, " (", CallStateName(call.state()));
    if (call.state() == v1::CALL_STATE_ENDED) {
      absl::StrAppend(&text, ": ", EndResultName(call.end_result()));
      if (std::optional<absl::Duration> d = CallDuration(call, env_.now()); d.has_value()) {
        absl::StrAppend(&text, ", ", FormatCallDuration(*d));
      }
    } else if (call.muted()) {
      absl::StrAppend(&text, ", muted");
    }
    return absl::StrCat(text, ")");
  }

  int Watch() {
    InterruptLatch local_latch;
    InterruptLatch* latch = env_.interrupt != nullptr ? env_.interrupt : &local_latch;
    latch->Arm();

    absl::Mutex mu;
    std::optional<absl::Status> end_status;  // Guarded by mu.
    std::unique_ptr<client::Subscription> subscription = client_.Watch(
        [this](const v1::Event& event) {
          // Callbacks run one at a time: no lock needed for the stream.
          if (inv_.global.json) {
            absl::StatusOr<std::string> json = ToJson(event, /*pretty=*/false);
            *env_.out << (json.ok() ? *json : std::string(json.status().message())) << "\n";
          } else {
            *env_.out << FormatEvent(event, Times()) << "\n";
          }
          env_.out->flush();
        },
        [&mu, &end_status, latch](absl::Status status) {
          {
            absl::MutexLock lock(&mu);
            end_status = std::move(status);
          }
          latch->Trigger();
        });
    latch->Wait();
    subscription.reset();  // No callback runs after this.

    absl::MutexLock lock(&mu);
    if (!end_status.has_value()) return kExitOk;  // Ctrl-C.
    if (end_status->ok()) {
      *env_.err << "callsctl: watch: the daemon ended the stream\n" << std::flush;
      return kExitOk;
    }
    return Fail(*end_status);
  }

  const Invocation& inv_;
  const CallsctlEnv& env_;
  client::Client& client_;
  const std::string input_;
};

bool NeedsToken(Command command) {
  return command == Command::kLogin || command == Command::kRefreshToken;
}

}  // namespace

void InterruptLatch::Arm() {
  absl::MutexLock lock(&mu_);
  armed_ = true;
}

bool InterruptLatch::Trigger() {
  absl::MutexLock lock(&mu_);
  triggered_ = true;
  return armed_;
}

void InterruptLatch::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&triggered_));
}

CallsctlEnv DefaultEnv() {
  CallsctlEnv env;
  env.in = &std::cin;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.connect = [](const client::ClientOptions& options) {
    return client::Client::Connect(options);
  };
  env.now = [] { return absl::Now(); };
  env.zone = absl::LocalTimeZone();
  return env;
}

int RunCallsctl(const std::vector<std::string>& args, const CallsctlEnv& env) {
  ParseResult parsed = ParseArgs(args);
  if (!parsed.invocation.has_value()) {
    *env.err << "callsctl: " << parsed.error << "\n" << parsed.usage << "\n" << std::flush;
    return kExitUsage;
  }
  const Invocation& inv = *parsed.invocation;
  if (inv.command == Command::kHelp) {
    *env.out << HelpText(inv.help_topic) << std::flush;
    return kExitOk;
  }

  // The token or the payload before the connection: a bad input is the
  // caller's mistake, whatever the daemon's state. Neither is ever echoed.
  std::string input;
  if (NeedsToken(inv.command) || inv.command == Command::kPushDeliver) {
    absl::StatusOr<std::string> read = inv.command == Command::kPushDeliver
                                           ? ReadPushPayload(*env.in)
                                           : ReadToken(inv.token, *env.in);
    if (!read.ok()) {
      *env.err << "callsctl: " << inv.name << ": " << read.status().message() << "\n"
               << std::flush;
      return kExitUsage;
    }
    input = *std::move(read);
  }

  client::ClientOptions options;
  options.socket_path = inv.global.socket_path;
  if (inv.global.timeout.has_value()) options.deadline = *inv.global.timeout;
  absl::StatusOr<std::unique_ptr<client::Client>> connected = env.connect(options);
  if (!connected.ok()) {
    *env.err << FormatCommandError(inv.name, connected.status()) << std::flush;
    return kExitError;
  }
  return CommandRunner(inv, env, **connected, std::move(input)).Run();
}

}  // namespace callsd::ctl
