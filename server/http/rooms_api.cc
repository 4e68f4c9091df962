// Api: rooms (group calls) over REST; entering, leaving and the rest go over
// the WebSocket (server/calls/room_router.h).
//
//   POST /v1/rooms {"type": "small"|"large"}   (client) RoomInfo of the new,
//                                              empty room, owned by the
//                                              requester; no type is small,
//                                              another is 400100
//   GET  /v1/rooms/{room_id}                   (client) RoomInfo with the
//                                              participants and their audio;
//                                              400200 unknown or another
//                                              app's, 1400121 deleted
#include "common/status_macros.h"
#include "server/calls/room_router.h"
#include "server/http/api.h"
#include "server/http/api_util.h"

namespace callsd::server {

// POST /v1/rooms {type} -> RoomInfo
Api::Result Api::CreateRoom(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const SessionKeyRecord session, RequireSession(request));
  if (rooms_ == nullptr) return absl::InternalError("no room router");
  // The body is {"type": ...}: RoomInfo's field of that name, and nothing
  // else of it is read.
  ASSIGN_OR_RETURN(const wire::v1::RoomInfo body, ParseBody<wire::v1::RoomInfo>(request));
  ASSIGN_OR_RETURN(const wire::v1::RoomInfo room, rooms_->Create(session.user, body.type()));
  return ToJson(room);
}

// GET /v1/rooms/{room_id} -> RoomInfo
Api::Result Api::GetRoom(const HttpRequest& request, const PathParams& params) {
  ASSIGN_OR_RETURN(const SessionKeyRecord session, RequireSession(request));
  if (rooms_ == nullptr) return absl::InternalError("no room router");
  ASSIGN_OR_RETURN(const wire::v1::RoomInfo room, rooms_->Get(session.user, params.at("room_id")));
  return ToJson(room);
}

}  // namespace callsd::server
