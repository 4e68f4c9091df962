#include "daemon/calls/room.h"

#include <utility>

namespace callsd::daemon {

const char* RoomTypeName(RoomType type) { return type == RoomType::kLarge ? "large" : "small"; }

std::optional<RoomType> RoomTypeFromName(const std::string& name) {
  if (name == "small") return RoomType::kSmall;
  if (name == "large") return RoomType::kLarge;
  return std::nullopt;
}

const char* RoomStateName(RoomState state) {
  switch (state) {
    case RoomState::kNone: return "NONE";
    case RoomState::kEntering: return "ENTERING";
    case RoomState::kEntered: return "ENTERED";
    case RoomState::kReconnecting: return "RECONNECTING";
    case RoomState::kExited: return "EXITED";
  }
  return "?";
}

const RoomParticipantRecord* RoomRecord::Participant(const std::string& user_id) const {
  for (const RoomParticipantRecord& p : participants) {
    if (p.user_id == user_id) return &p;
  }
  return nullptr;
}

RoomParticipantRecord* RoomRecord::Participant(const std::string& user_id) {
  return const_cast<RoomParticipantRecord*>(std::as_const(*this).Participant(user_id));
}

RoomParticipantRecord FromWire(const wire::v1::RoomParticipant& p) {
  RoomParticipantRecord out;
  out.user_id = p.user_id();
  out.nickname = p.nickname();
  out.muted = p.muted();
  if (p.entered_at() > 0) out.entered_at = absl::FromUnixMillis(p.entered_at());
  return out;
}

void UpdateFromWire(const wire::v1::RoomInfo& info, RoomRecord* out) {
  if (!info.room_id().empty()) out->room_id = info.room_id();
  // An unknown type from a newer server reads as small (the smaller limit).
  out->type = RoomTypeFromName(info.type()).value_or(RoomType::kSmall);
  out->owner_id = info.owner_id();
  out->max_participants = info.max_participants();
  out->participants.clear();
  for (const wire::v1::RoomParticipant& p : info.participants()) {
    out->participants.push_back(FromWire(p));
  }
}

}  // namespace callsd::daemon
