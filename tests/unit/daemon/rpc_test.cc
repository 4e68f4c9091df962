// rpc/ pieces without sockets: request validation, status translation with
// the ErrorInfo detail, and the access tiers.
#include "callsd/v1/callsd.pb.h"
#include "common/calls_error.h"
#include "daemon/rpc/peer_access.h"
#include "daemon/rpc/proto_conversion.h"
#include "daemon/rpc/request_decoding.h"
#include "daemon/rpc/status_conversion.h"
#include "daemon/rpc/validation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::daemon::rpc {
namespace {

using ::testing::HasSubstr;

void ExpectInvalid(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(GetErrorField(status), field) << status;
  EXPECT_THAT(status.message(), HasSubstr(field));
}

TEST(ValidationTest, AuthenticateFields) {
  callsd::v1::AuthenticateRequest request;
  request.set_user_id("alice");
  request.set_token_kind(callsd::v1::TOKEN_KIND_ACCESS_TOKEN);
  request.set_token("abc");
  EXPECT_TRUE(Validate(request).ok());

  auto bad = request;
  bad.set_user_id("");
  ExpectInvalid(Validate(bad), "user_id");
  bad = request;
  bad.set_user_id(std::string(257, 'a'));
  ExpectInvalid(Validate(bad), "user_id");
  bad = request;
  bad.set_user_id(std::string(256, 'a'));
  EXPECT_TRUE(Validate(bad).ok()) << "256 bytes is the limit, not over it";
  bad = request;
  bad.set_user_id("al\xffice");
  ExpectInvalid(Validate(bad), "user_id");
  bad = request;
  bad.set_user_id("al\nice");
  ExpectInvalid(Validate(bad), "user_id");
  bad = request;
  bad.set_token(std::string(4097, 't'));
  ExpectInvalid(Validate(bad), "token");
  bad = request;
  bad.set_token("");
  ExpectInvalid(Validate(bad), "token");
  bad = request;
  bad.set_token("two words");
  ExpectInvalid(Validate(bad), "token");
  bad = request;
  bad.set_token_kind(static_cast<callsd::v1::TokenKind>(7));
  ExpectInvalid(Validate(bad), "token_kind");
  bad = request;
  bad.set_token_kind(callsd::v1::TOKEN_KIND_UNSPECIFIED);
  ExpectInvalid(Validate(bad), "token_kind");
}

TEST(ValidationTest, InitAndRefresh) {
  callsd::v1::InitRequest init;
  ExpectInvalid(Validate(init), "app_id");
  init.set_app_id("demo-app");
  EXPECT_TRUE(Validate(init).ok());
  callsd::v1::RefreshSessionTokenRequest refresh;
  ExpectInvalid(Validate(refresh), "token");
}

TEST(DecodeRequestTest, NamesTheFieldWithInvalidUtf8) {
  // user_id (field 1) = ff fe fd, token_kind = 1, token = "t".
  const std::string bad_user("\x0a\x03\xff\xfe\xfd\x10\x01\x1a\x01t", 10);
  callsd::v1::AuthenticateRequest request;
  absl::Status status = DecodeRequest(bad_user, &request);
  ExpectInvalid(status, "user_id");
  EXPECT_THAT(status.message(), HasSubstr("UTF-8"));

  const std::string bad_token("\x0a\x01u\x1a\x02\xc3\x28", 7);
  ExpectInvalid(DecodeRequest(bad_token, &request), "token");
}

TEST(DecodeRequestTest, GarbageAndTruncationAreMalformed) {
  callsd::v1::AuthenticateRequest request;
  for (const std::string& bytes :
       {std::string("\x0a\x03\xff\xfe", 4), std::string(10, '\xff'), std::string("\x0a\x7f", 2)}) {
    absl::Status status = DecodeRequest(bytes, &request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("malformed request"));
  }
  EXPECT_THAT(DecodeRequest(std::string(kMaxRequestBytes + 1, '\0'), &request).message(),
              HasSubstr("over the limit"));
}

TEST(DecodeRequestTest, DecodesAGoodRequestAndIgnoresUnknownFields) {
  callsd::v1::AuthenticateRequest in;
  in.set_user_id("alice");
  in.set_token_kind(callsd::v1::TOKEN_KIND_SESSION_TOKEN);
  in.set_token("tok");
  std::string bytes = in.SerializeAsString();
  bytes += std::string("\xa0\x06\x01", 3);  // field 100, varint 1: from a newer client
  callsd::v1::AuthenticateRequest out;
  ASSERT_TRUE(DecodeRequest(bytes, &out).ok());
  EXPECT_EQ(out.user_id(), "alice");
  EXPECT_EQ(out.token(), "tok");
  EXPECT_EQ(out.token_kind(), callsd::v1::TOKEN_KIND_SESSION_TOKEN);
}

TEST(ValidationTest, PushTokens) {
  callsd::v1::RegisterPushTokenRequest request;
  request.set_type(callsd::v1::PUSH_TOKEN_TYPE_VOIP);
  request.set_token("https://push.example.com/up/x");
  EXPECT_TRUE(Validate(request).ok());
  auto bad = request;
  bad.set_type(callsd::v1::PUSH_TOKEN_TYPE_UNSPECIFIED);
  ExpectInvalid(Validate(bad), "type");
  bad = request;
  bad.set_token("ftp://push.example.com/x");
  ExpectInvalid(Validate(bad), "token");
  bad = request;
  bad.set_token("not a url");
  ExpectInvalid(Validate(bad), "token");
  bad = request;
  bad.set_token("https://push.example.com/" + std::string(1000, 'x'));
  ExpectInvalid(Validate(bad), "token");
  bad = request;
  bad.set_token("http://127.0.0.1:8080/push");
  EXPECT_TRUE(Validate(bad).ok()) << "plain http endpoints are allowed (a local distributor)";
}

// Every request that names a room: room_id required, at most 256 bytes,
// UTF-8 without control characters.
template <typename Req>
void ExpectRoomIdChecked() {
  SCOPED_TRACE(Req::descriptor()->name());
  Req request;
  ExpectInvalid(Validate(request), "room_id");
  request.set_room_id("room-1");
  EXPECT_TRUE(Validate(request).ok());
  request.set_room_id(std::string(256, 'r'));
  EXPECT_TRUE(Validate(request).ok()) << "256 bytes is the limit, not over it";
  for (const std::string& bad : {std::string(257, 'r'), std::string("ro\nom"),
                                std::string("ro\x7fom"), std::string("r\xffoom")}) {
    request.set_room_id(bad);
    ExpectInvalid(Validate(request), "room_id");
  }
}

TEST(ValidationTest, RoomIds) {
  ExpectRoomIdChecked<callsd::v1::EnterRoomRequest>();
  ExpectRoomIdChecked<callsd::v1::ExitRoomRequest>();
  ExpectRoomIdChecked<callsd::v1::SetRoomMutedRequest>();
  ExpectRoomIdChecked<callsd::v1::DeleteRoomRequest>();
  ExpectRoomIdChecked<callsd::v1::GetRoomRequest>();
  EXPECT_TRUE(Validate(callsd::v1::ListRoomsRequest()).ok());
}

TEST(ValidationTest, RoomType) {
  callsd::v1::CreateRoomRequest request;
  EXPECT_TRUE(Validate(request).ok()) << "UNSPECIFIED is a small room";
  request.set_type(callsd::v1::ROOM_TYPE_LARGE);
  EXPECT_TRUE(Validate(request).ok());
  request.set_type(static_cast<callsd::v1::RoomType>(3));
  ExpectInvalid(Validate(request), "type");
  EXPECT_EQ(*FromProto(callsd::v1::ROOM_TYPE_UNSPECIFIED), RoomType::kSmall);
  EXPECT_EQ(*FromProto(callsd::v1::ROOM_TYPE_LARGE), RoomType::kLarge);
  ExpectInvalid(FromProto(static_cast<callsd::v1::RoomType>(-1)).status(), "type");
}

TEST(MethodTierTest, RoomMethods) {
  for (const char* control :
       {"CreateRoom", "EnterRoom", "ExitRoom", "SetRoomMuted", "DeleteRoom"}) {
    EXPECT_EQ(MethodTier(control), Tier::kControl) << control;
  }
  for (const char* read : {"GetRoom", "ListRooms"}) {
    EXPECT_EQ(MethodTier(read), Tier::kRead) << read;
  }
  EXPECT_EQ(MethodTier("Dial"), Tier::kControl);
  EXPECT_EQ(MethodTier("ListCalls"), Tier::kRead);
  EXPECT_EQ(MethodTier("Authenticate"), Tier::kAdmin);
  EXPECT_EQ(MethodTier("NoSuchMethod"), std::nullopt);
}

TEST(MethodTierTest, EveryMethodOfTheServiceHasATier) {
  const google::protobuf::ServiceDescriptor* service =
      callsd::v1::Event::descriptor()->file()->FindServiceByName("Calls");
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_TRUE(MethodTier(service->method(i)->name()).has_value()) << service->method(i)->name();
  }
}

TEST(ProtoConversionTest, RoomEvents) {
  RoomRecord room;
  room.room_id = "r1";
  room.type = RoomType::kLarge;
  room.owner_id = "alice";
  room.max_participants = 20;
  room.state = RoomState::kReconnecting;
  room.muted = true;
  room.participants.push_back({"alice", "Alice", true, absl::FromUnixMillis(1'800'000'000'000)});

  callsd::v1::Event event;
  FillEvent(RoomChanged{RoomChanged::Kind::kLocalParticipantDisconnected, room,
                        absl::UnavailableError("could not reconnect")},
            absl::Now(), &event);
  ASSERT_TRUE(event.has_local_participant_disconnected());
  const callsd::v1::Room& out = event.local_participant_disconnected().room();
  EXPECT_EQ(out.room_id(), "r1");
  EXPECT_EQ(out.type(), callsd::v1::ROOM_TYPE_LARGE);
  EXPECT_EQ(out.state(), callsd::v1::ROOM_STATE_RECONNECTING);
  EXPECT_EQ(out.max_participants(), 20);
  EXPECT_TRUE(out.muted());
  ASSERT_EQ(out.participants_size(), 1);
  EXPECT_EQ(out.participants(0).user().nickname(), "Alice");
  EXPECT_EQ(out.participants(0).entered_at().seconds(), 1'800'000'000);
  EXPECT_EQ(event.local_participant_disconnected().reason().message(), "could not reconnect");

  struct Case {
    RoomChanged::Kind kind;
    callsd::v1::Event::KindCase expected;
  };
  for (const Case& c : {Case{RoomChanged::Kind::kEntered, callsd::v1::Event::kRoomEntered},
                        Case{RoomChanged::Kind::kExited, callsd::v1::Event::kRoomExited},
                        Case{RoomChanged::Kind::kDeleted, callsd::v1::Event::kRoomDeleted},
                        Case{RoomChanged::Kind::kReconnecting,
                             callsd::v1::Event::kRoomReconnecting},
                        Case{RoomChanged::Kind::kReconnected,
                             callsd::v1::Event::kRoomReconnected}}) {
    callsd::v1::Event e;
    FillEvent(RoomChanged{c.kind, room, absl::OkStatus()}, absl::Now(), &e);
    EXPECT_EQ(e.kind_case(), c.expected);
  }
  struct ParticipantCase {
    RoomParticipantChanged::Kind kind;
    callsd::v1::Event::KindCase expected;
  };
  for (const ParticipantCase& c :
       {ParticipantCase{RoomParticipantChanged::Kind::kEntered,
                        callsd::v1::Event::kParticipantEntered},
        ParticipantCase{RoomParticipantChanged::Kind::kExited,
                        callsd::v1::Event::kParticipantExited},
        ParticipantCase{RoomParticipantChanged::Kind::kAudioChanged,
                        callsd::v1::Event::kRoomAudioChanged}}) {
    callsd::v1::Event e;
    FillEvent(RoomParticipantChanged{c.kind, room, room.participants[0]}, absl::Now(), &e);
    EXPECT_EQ(e.kind_case(), c.expected);
  }
}

TEST(StatusConversionTest, CarriesErrorInfoInDetails) {
  absl::Status status = CallsError(absl::StatusCode::kFailedPrecondition, kCodeNotInitialized,
                                   "not initialized", "", "run callsctl init APP_ID");
  grpc::Status grpc_status = ToGrpcStatus(status);
  EXPECT_EQ(grpc_status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(grpc_status.error_message(), "not initialized");
  callsd::v1::RpcStatus rich;
  ASSERT_TRUE(rich.ParseFromString(grpc_status.error_details()));
  EXPECT_EQ(rich.code(), static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  ASSERT_EQ(rich.details_size(), 1);
  callsd::v1::ErrorInfo info;
  ASSERT_TRUE(rich.details(0).UnpackTo(&info));
  EXPECT_EQ(info.calls_code(), kCodeNotInitialized);
  EXPECT_EQ(info.hint(), "run callsctl init APP_ID");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(AccessPolicyTest, Tiers) {
  AccessPolicy policy;
  policy.daemon_uid = 500;
  policy.socket_gid = 4242;
  policy.operator_uids = {1001};
  policy.operator_gids = {4343};

  PeerCredentials root{1, 0, 0, {}};
  PeerCredentials self{1, 500, 500, {}};
  PeerCredentials member{1, 1000, 1000, {4242}};
  PeerCredentials primary_member{1, 1002, 4242, {}};
  PeerCredentials operator_user{1, 1001, 1001, {}};
  PeerCredentials operator_group{1, 1003, 1003, {4343}};
  PeerCredentials stranger{1, 1004, 1004, {100}};

  for (const auto* admin : {&root, &self, &operator_user, &operator_group}) {
    EXPECT_TRUE(policy.Allows(*admin, Tier::kAdmin)) << admin->uid;
    EXPECT_TRUE(policy.Allows(*admin, Tier::kRead)) << admin->uid;
  }
  for (const auto* m : {&member, &primary_member}) {
    EXPECT_TRUE(policy.Allows(*m, Tier::kRead));
    EXPECT_TRUE(policy.Allows(*m, Tier::kControl));
    EXPECT_FALSE(policy.Allows(*m, Tier::kAdmin));
  }
  EXPECT_FALSE(policy.Allows(stranger, Tier::kRead));

  absl::Status denied = policy.Check(member, Tier::kAdmin, "Authenticate");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(), HasSubstr("Authenticate needs the admin tier"));
  EXPECT_THAT(denied.message(), HasSubstr("uid 1000"));

  policy.control_needs_admin = true;
  EXPECT_FALSE(policy.Allows(member, Tier::kControl));
  EXPECT_TRUE(policy.Allows(member, Tier::kRead));
  EXPECT_TRUE(policy.Allows(operator_group, Tier::kControl));
}

// DeliverPush is the control tier until push distributors are configured;
// then only they (and the admin tier) may deliver.
TEST(AccessPolicyTest, PushTierNarrowsToTheDistributor) {
  EXPECT_EQ(MethodTier("DeliverPush"), Tier::kPush);
  AccessPolicy policy;
  policy.daemon_uid = 500;
  policy.socket_gid = 4242;
  PeerCredentials member{1, 1000, 1000, {4242}};
  PeerCredentials distributor{1, 1005, 1005, {4242}};
  PeerCredentials group_distributor{1, 1006, 1006, {4242, 4545}};
  PeerCredentials stranger{1, 1004, 1004, {100}};
  PeerCredentials root{1, 0, 0, {}};
  EXPECT_TRUE(policy.Allows(member, Tier::kPush));
  EXPECT_FALSE(policy.Allows(stranger, Tier::kPush));
  EXPECT_THAT(policy.Check(stranger, Tier::kPush, "DeliverPush").message(),
              HasSubstr("not in the socket group"));

  policy.push_distributor_uids = {1005};
  policy.push_distributor_gids = {4545};
  EXPECT_FALSE(policy.Allows(member, Tier::kPush));
  EXPECT_TRUE(policy.Allows(member, Tier::kControl)) << "the rest of call control stays";
  EXPECT_TRUE(policy.Allows(distributor, Tier::kPush));
  EXPECT_TRUE(policy.Allows(group_distributor, Tier::kPush));
  EXPECT_TRUE(policy.Allows(root, Tier::kPush));
  absl::Status denied = policy.Check(member, Tier::kPush, "DeliverPush");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(), HasSubstr("DeliverPush needs the push tier"));
  EXPECT_THAT(denied.message(), HasSubstr("not a configured push distributor"));
}

TEST(PeerRegistryTest, LooksUpByFdPeerString) {
  PeerRegistry peers;
  peers.Record(7, PeerCredentials{42, 1000, 1000, {}});
  auto found = peers.Lookup("fd:7");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->pid, 42);
  EXPECT_FALSE(peers.Lookup("fd:8").has_value());
  EXPECT_FALSE(peers.Lookup("unix:/x").has_value());
  EXPECT_FALSE(peers.Lookup("fd:").has_value());
  peers.Record(7, PeerCredentials{43, 0, 0, {}});
  EXPECT_EQ(peers.Lookup("fd:7")->pid, 43) << "a reused fd gets the new connection's peer";
}

}  // namespace
}  // namespace callsd::daemon::rpc
