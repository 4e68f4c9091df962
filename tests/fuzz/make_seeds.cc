// Writes the seed corpora that need the project's own code to make: signed
// push payloads (corpus/push_payload) and binary requests (corpus/request).
// Not a test; rerun after changing the wire or API protos:
//   ninja -C build fuzz_make_seeds && build/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
// The hand-written seeds (JSON, TOML, edge cases) sit next to these.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "callsd/v1/callsd.pb.h"
#include "common/push_signing.h"
#include "common/wire_json.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "tests/fuzz/fuzz_seeds.h"
#include "wire/v1/wire.pb.h"

namespace {

namespace v1 = callsd::v1;
namespace wire = callsd::wire::v1;
using callsd::fuzz::kPushNowMillis;

std::string g_dir;

void Write(const std::string& sub, const std::string& name, const std::string& bytes) {
  const std::string path = absl::StrCat(g_dir, "/", sub, "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

// ---- push payloads --------------------------------------------------------

wire::PushPayload Push(const std::string& type, int64_t age_ms) {
  wire::PushPayload p;
  p.set_v(1);
  p.set_app_id(callsd::fuzz::kPushApp);
  p.set_user_id(callsd::fuzz::kPushUser);
  p.set_type(type);
  p.set_call_id("c-7f3a9e2b-5d41-4c0e-9a8f-1b2c3d4e5f60");
  p.mutable_caller()->set_user_id("bob");
  p.mutable_caller()->set_nickname("Bob at the door");
  p.set_sent_at(kPushNowMillis - age_ms);
  p.set_ttl_s(60);
  return p;
}

std::string Signed(wire::PushPayload p, const std::string& key = callsd::fuzz::kPushKey) {
  callsd::SignPush(&p, key);
  return callsd::ToJson(p);
}

void PushSeeds() {
  const std::string dir = "push_payload";
  Write(dir, "ringing", Signed(Push("call.ringing", 5000)));
  wire::PushPayload video = Push("call.ringing", 0);
  video.set_video(true);
  Write(dir, "ringing_video_now", Signed(video));
  Write(dir, "canceled", Signed(Push("call.canceled", 1000)));
  wire::PushPayload missed = Push("call.missed", 30000);
  missed.set_end_result("no_answer");
  Write(dir, "missed", Signed(missed));
  // The same signed payload spelled differently: whitespace, camelCase names.
  wire::PushPayload pretty = Push("call.ringing", 2000);
  callsd::SignPush(&pretty, callsd::fuzz::kPushKey);
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(pretty, &text, options);
  Write(dir, "ringing_pretty_camel", text);
  // Refused for one reason each.
  Write(dir, "stale", Signed(Push("call.ringing", 2 * 3600 * 1000)));
  Write(dir, "future", Signed(Push("call.ringing", -3600 * 1000)));
  wire::PushPayload other_user = Push("call.ringing", 1000);
  other_user.set_user_id("mallory");
  Write(dir, "other_user", Signed(other_user));
  wire::PushPayload other_app = Push("call.ringing", 1000);
  other_app.set_app_id("com.example.other");
  Write(dir, "other_app", Signed(other_app));
  Write(dir, "wrong_key", Signed(Push("call.ringing", 1000), "not-the-push-key"));
  Write(dir, "unsigned", callsd::ToJson(Push("call.ringing", 1000)));
  wire::PushPayload v2 = Push("call.ringing", 1000);
  v2.set_v(2);
  Write(dir, "version_2", Signed(v2));
  Write(dir, "unknown_type", Signed(Push("call.exploded", 1000)));
  wire::PushPayload ttl = Push("call.ringing", 1000);
  ttl.set_ttl_s(86400);
  Write(dir, "ttl_too_long", Signed(ttl));
  wire::PushPayload no_call = Push("call.ringing", 1000);
  no_call.clear_call_id();
  Write(dir, "no_call_id", Signed(no_call));
}

// ---- requests -------------------------------------------------------------

// The first byte picks the method, as in request_fuzzer.cc.
void Request(const std::string& method, const std::string& name,
             const google::protobuf::Message& request) {
  const google::protobuf::MethodDescriptor* m =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrCat("callsd.v1.Calls.", method));
  if (m == nullptr || m->input_type() != request.GetDescriptor()) {
    std::fprintf(stderr, "no method %s taking %s\n", method.c_str(),
                 request.GetDescriptor()->full_name().c_str());
    std::exit(1);
  }
  Write("request", name, std::string(1, static_cast<char>(m->index())) + request.SerializeAsString());
}

void RequestSeeds() {
  v1::InitRequest init;
  init.set_app_id("com.example.kiosk");
  Request("Init", "init", init);
  v1::AuthenticateRequest auth;
  auth.set_user_id("alice");
  auth.set_token_kind(v1::TOKEN_KIND_ACCESS_TOKEN);
  auth.set_token("at-3q2+7w9Z_example-access-token");
  Request("Authenticate", "authenticate", auth);
  auth.set_token_kind(v1::TOKEN_KIND_SESSION_TOKEN);
  auth.set_token("st.eyJleHAiOjE3Njc.session");
  Request("Authenticate", "authenticate_session", auth);
  auth.set_token("two words");
  Request("Authenticate", "authenticate_space_in_token", auth);
  auth.set_token_kind(static_cast<v1::TokenKind>(7));
  Request("Authenticate", "authenticate_unknown_kind", auth);
  v1::DeauthenticateRequest deauth;
  deauth.set_keep_push_tokens(true);
  Request("Deauthenticate", "deauthenticate", deauth);
  v1::RefreshSessionTokenRequest refresh;
  refresh.set_token("st.refreshed.token");
  Request("RefreshSessionToken", "refresh", refresh);
  Request("GetState", "get_state", v1::GetStateRequest());
  Request("WatchEvents", "watch_events", v1::WatchEventsRequest());
  v1::RegisterPushTokenRequest reg;
  reg.set_type(v1::PUSH_TOKEN_TYPE_VOIP);
  reg.set_token("http://127.0.0.1:8099/push/kiosk-1");
  reg.set_unique(true);
  Request("RegisterPushToken", "register_push", reg);
  reg.set_type(v1::PUSH_TOKEN_TYPE_REMOTE);
  reg.set_token("https://push.example.com/up/AbC123?token=x");
  Request("RegisterPushToken", "register_push_https", reg);
  reg.set_token("ftp://push.example.com/x");
  Request("RegisterPushToken", "register_push_ftp", reg);
  v1::UnregisterPushTokenRequest unreg;
  unreg.set_type(v1::PUSH_TOKEN_TYPE_VOIP);
  unreg.set_token("http://[::1]:8099/push/kiosk-1");
  Request("UnregisterPushToken", "unregister_push", unreg);
  v1::UnregisterAllPushTokensRequest unreg_all;
  unreg_all.set_type(v1::PUSH_TOKEN_TYPE_REMOTE);
  Request("UnregisterAllPushTokens", "unregister_all", unreg_all);
  Request("ListPushTokens", "list_push_tokens", v1::ListPushTokensRequest());
  v1::DialRequest dial;
  dial.set_callee_id("bob");
  dial.set_video(true);
  Request("Dial", "dial", dial);
  v1::AcceptRequest accept;
  accept.set_call_id("c-7f3a9e2b-5d41-4c0e-9a8f-1b2c3d4e5f60");
  Request("Accept", "accept", accept);
  v1::DeclineRequest decline;
  decline.set_call_id("c-1");
  Request("Decline", "decline", decline);
  v1::EndRequest end;
  end.set_call_id("c-2");
  Request("End", "end", end);
  v1::SetMutedRequest muted;
  muted.set_call_id("c-3");
  muted.set_muted(true);
  Request("SetMuted", "set_muted", muted);
  Request("ListCalls", "list_calls", v1::ListCallsRequest());
  v1::GetCallHistoryRequest history;
  history.set_limit(20);
  history.set_next("eyJiZWZvcmUiOjE3Njd9");
  Request("GetCallHistory", "call_history", history);
  history.set_limit(-1);
  Request("GetCallHistory", "call_history_negative", history);
  v1::DeliverPushRequest deliver;
  deliver.set_payload(Signed(Push("call.ringing", 1000)));
  Request("DeliverPush", "deliver_push", deliver);
  v1::CreateRoomRequest create;
  create.set_type(v1::ROOM_TYPE_LARGE);
  Request("CreateRoom", "create_room", create);
  v1::EnterRoomRequest enter;
  enter.set_room_id("r-42");
  enter.set_muted(true);
  Request("EnterRoom", "enter_room", enter);
  v1::ExitRoomRequest exit_room;
  exit_room.set_room_id("r-42");
  Request("ExitRoom", "exit_room", exit_room);
  v1::SetRoomMutedRequest room_muted;
  room_muted.set_room_id("r-42");
  Request("SetRoomMuted", "set_room_muted", room_muted);
  v1::DeleteRoomRequest del;
  del.set_room_id("r-42");
  Request("DeleteRoom", "delete_room", del);
  v1::GetRoomRequest get_room;
  get_room.set_room_id("r\x7f");
  Request("GetRoom", "get_room_control_char", get_room);
  Request("ListRooms", "list_rooms", v1::ListRoomsRequest());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s tests/fuzz/corpus\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];
  PushSeeds();
  RequestSeeds();
  return 0;
}
