// Domain values <-> callsd.v1 messages. Pure functions; no gRPC.
#ifndef CALLSD_DAEMON_RPC_PROTO_CONVERSION_H_
#define CALLSD_DAEMON_RPC_PROTO_CONVERSION_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "callsd/v1/callsd.pb.h"
#include "daemon/calls/call_registry.h"
#include "daemon/events/events.h"
#include "google/protobuf/timestamp.pb.h"

namespace callsd::daemon::rpc {

void ToProto(absl::Time t, google::protobuf::Timestamp* out);
callsd::v1::SessionState ToProto(SessionState state);
callsd::v1::TokenKind ToProto(TokenKind kind);

callsd::v1::PushTokenType ToProto(PushType type);
// INVALID_ARGUMENT for UNSPECIFIED and unknown values.
absl::StatusOr<PushType> FromProto(callsd::v1::PushTokenType type);
void ToProto(const StoredPushToken& token, callsd::v1::PushToken* out);

// Fills the session part of `out` (app, state, user, token, errors).
void FillSessionState(const SessionSnapshot& snapshot, callsd::v1::State* out);

// A call as seen at `now` (its duration counts up while connected).
void ToProto(const CallRecord& call, absl::Time now, callsd::v1::Call* out);

// A call log entry of the server, as seen by `me` (direction, peer).
void ToProto(const wire::v1::CallInfo& info, const std::string& me, callsd::v1::Call* out);
callsd::v1::DeliverPushResponse::Outcome ToProto(CallRegistry::PushOutcome outcome);

// Rooms. UNSPECIFIED is a small room; INVALID_ARGUMENT naming "type" for
// values that are not RoomType's.
absl::StatusOr<RoomType> FromProto(callsd::v1::RoomType type);
callsd::v1::RoomType ToProto(RoomType type);
void ToProto(const RoomParticipantRecord& participant, callsd::v1::RoomParticipant* out);
void ToProto(const RoomRecord& room, callsd::v1::Room* out);

// The event payload of a domain event (seq and time are the bus's).
void FillEvent(const DomainEvent& event, absl::Time now, callsd::v1::Event* out);

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_PROTO_CONVERSION_H_
