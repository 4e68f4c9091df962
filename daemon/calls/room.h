// A room (group call) as the daemon keeps it (DESIGN.md "Calls": group
// calls). Rooms live in memory only: a restarted daemon is in no room (the
// server removes its participants after its reconnect window).
#ifndef CALLSD_DAEMON_CALLS_ROOM_H_
#define CALLSD_DAEMON_CALLS_ROOM_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/calls_error.h"
#include "wire/v1/wire.pb.h"

namespace callsd::daemon {


enum class RoomType { kSmall = 1, kLarge = 2 };

// The values match callsd.v1.RoomState; kNone is "not in it" (GetRoom).
enum class RoomState {
  kNone = 0,
  kEntering = 1,      // enter sent, waiting for the server
  kEntered = 2,
  kReconnecting = 3,  // the WebSocket dropped while in the room
  kExited = 4,
};

// "small" / "large", as on the wire.
const char* RoomTypeName(RoomType type);
// nullopt for anything but "small" / "large".
std::optional<RoomType> RoomTypeFromName(const std::string& name);
const char* RoomStateName(RoomState state);

struct RoomParticipantRecord {
  std::string user_id;
  std::string nickname;
  bool muted = false;
  std::optional<absl::Time> entered_at;
};

struct RoomRecord {
  std::string room_id;
  RoomType type = RoomType::kSmall;
  std::string owner_id;
  int max_participants = 0;
  std::vector<RoomParticipantRecord> participants;
  RoomState state = RoomState::kNone;
  // This participant's own audio.
  bool muted = false;

  // In the room as far as the server is concerned (or being taken back).
  bool in_room() const {
    return state == RoomState::kEntering || state == RoomState::kEntered ||
           state == RoomState::kReconnecting;
  }
  const RoomParticipantRecord* Participant(const std::string& user_id) const;
  RoomParticipantRecord* Participant(const std::string& user_id);
};

RoomParticipantRecord FromWire(const wire::v1::RoomParticipant& participant);
// The server's view of the room; state and muted are left as they are in
// `out` (this daemon's own), everything else is replaced.
void UpdateFromWire(const wire::v1::RoomInfo& info, RoomRecord* out);

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_CALLS_ROOM_H_
