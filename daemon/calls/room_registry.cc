#include "daemon/calls/room_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "glog/logging.h"

namespace callsd::daemon {
namespace {

absl::Status ShuttingDown() { return absl::UnavailableError("callsd is shutting down"); }

absl::Status NotInRoom(const std::string& room_id) {
  return CallsError(absl::StatusCode::kFailedPrecondition, kCodeNotInRoom,
                    absl::StrCat("this daemon is not in room ", room_id), "room_id",
                    "list the rooms this daemon is in with: callsctl room list");
}

wire::v1::WsMessage RoomMessage(const char* type, const std::string& room_id) {
  wire::v1::WsMessage m;
  m.set_type(type);
  m.set_room_id(room_id);
  return m;
}

}  // namespace

bool IsSessionRejection(const absl::Status& status) {
  const std::optional<int> code = GetCallsCode(status);
  return code && (*code == kCodeInvalidAccessToken || *code == kCodeSessionKeyExpired ||
                  *code == kCodeSessionTokenRevoked);
}

RoomRegistry::RoomRegistry(Scheduler* engine, Backend* backend, Session* session,
                           EventSink* events, RoomChannelOwner* owner, Options options)
    : engine_(engine),
      backend_(backend),
      session_(session),
      events_(events),
      owner_(owner),
      options_(options) {}

RoomRegistry::~RoomRegistry() {
  for (auto& [id, request] : requests_) engine_->Cancel(request.timer);
}

// --- Lookups --------------------------------------------------------------------

RoomRecord* RoomRegistry::Find(const std::string& room_id) {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : &it->second;
}

absl::StatusOr<RoomRecord*> RoomRegistry::FindEntered(const std::string& room_id,
                                                      const char* action) {
  RoomRecord* room = Find(room_id);
  if (room == nullptr) return NotInRoom(room_id);
  if (room->state != RoomState::kEntered) {
    return CallsError(absl::StatusCode::kFailedPrecondition, 0,
                      absl::StrCat("room ", room_id, " is ", RoomStateName(room->state),
                                   "; it can ", action, " once entered"),
                      "room_id", "try again in a moment");
  }
  return room;
}

std::vector<const RoomRecord*> RoomRegistry::Refs() const {
  std::vector<const RoomRecord*> out;
  for (const auto& [id, room] : rooms_) out.push_back(&room);
  return out;
}

std::vector<RoomRecord> RoomRegistry::List() const {
  std::vector<RoomRecord> out;
  for (const auto& [id, room] : rooms_) out.push_back(room);
  return out;
}

bool RoomRegistry::channel_needed() const { return !rooms_.empty() || !requests_.empty(); }

// --- Events -------------------------------------------------------------------------

void RoomRegistry::Publish(RoomChanged::Kind kind, const RoomRecord& room, absl::Status reason) {
  events_->Publish(RoomChanged{kind, room, std::move(reason)});
}

RoomRecord RoomRegistry::Leave(const std::string& room_id, RoomChanged::Kind kind,
                               absl::Status reason) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return RoomRecord{};
  RoomRecord left = std::move(it->second);
  rooms_.erase(it);
  left.state = RoomState::kExited;
  LOG(INFO) << "left room " << room_id << (reason.ok() ? "" : ": ") << reason.message();
  Publish(kind, left, std::move(reason));
  owner_->RoomsIdle();
  return left;
}

void RoomRegistry::ReportRejection(const absl::Status& status) {
  if (IsSessionRejection(status)) session_->OnSessionRejected(status);
}

// --- Requests on the WebSocket ----------------------------------------------------

void RoomRegistry::SendRequest(wire::v1::WsMessage message, AnswerDone done) {
  const std::string req_id = absl::StrCat("room-", next_req_++);
  message.set_req_id(req_id);
  Request request;
  request.type = message.type();
  request.room_id = message.room_id();
  request.done = std::move(done);
  request.timer = engine_->RunAfter(options_.request_timeout,
                                    [this, req_id] { OnRequestTimeout(req_id); });
  // Pending before it goes out: the channel is needed for its answer.
  requests_.emplace(req_id, std::move(request));
  if (absl::Status sent = owner_->SendOnChannel(message); !sent.ok()) {
    auto it = requests_.find(req_id);
    Request failed = std::move(it->second);
    requests_.erase(it);
    engine_->Cancel(failed.timer);
    std::move(failed.done)(sent);
    owner_->RoomsIdle();
  }
}

void RoomRegistry::OnRequestTimeout(const std::string& req_id) {
  auto it = requests_.find(req_id);
  if (it == requests_.end()) return;
  Request request = std::move(it->second);
  requests_.erase(it);
  LOG(WARNING) << "room " << request.type << " got no answer from the calls server in time";
  std::move(request.done)(absl::UnavailableError(
      absl::StrCat("the calls server did not answer ", request.type, " of room ",
                   request.room_id, " within ", absl::FormatDuration(options_.request_timeout))));
  owner_->RoomsIdle();
}

void RoomRegistry::FailRequests(const absl::Status& why) {
  std::map<std::string, Request> requests = std::move(requests_);
  requests_.clear();
  for (auto& [req_id, request] : requests) {
    engine_->Cancel(request.timer);
    std::move(request.done)(why);
  }
}

bool RoomRegistry::OnChannelMessage(const wire::v1::WsMessage& m) {
  if (shut_down_) return false;
  if (!m.req_id().empty()) {
    auto it = requests_.find(m.req_id());
    if (it == requests_.end()) {
      if (m.type() != "entered" || m.room_id().empty() || Find(m.room_id()) != nullptr) {
        return false;
      }
      // An enter that timed out here went through after all: the server
      // would keep this participant in a room nobody here knows of.
      LOG(WARNING) << "late answer to enter room " << m.room_id() << ": exiting it";
      SendExit(m.room_id());
      owner_->RoomsIdle();
      return true;
    }
    Request request = std::move(it->second);
    requests_.erase(it);
    engine_->Cancel(request.timer);
    if (m.type() == "error") {
      std::move(request.done)(CallsError(StatusCodeForServerCode(m.code()), m.code(),
                                         m.message().empty()
                                             ? absl::StrCat("calls server error ", m.code())
                                             : m.message()));
    } else {
      std::move(request.done)(m);
    }
    owner_->RoomsIdle();
    return true;
  }
  // Unasked: about a room when it names one and no call.
  if (m.room_id().empty() || !m.call_id().empty()) return false;
  OnServerEvent(m);
  return true;
}

// --- Create, get ----------------------------------------------------------------------

void RoomRegistry::Create(RoomType type, Done<RoomRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (absl::Status s = session_->CheckAuthenticated(); !s.ok()) return std::move(done)(s);
  LOG(INFO) << "creating a " << RoomTypeName(type) << " room";
  backend_->CreateRoom(*session_->credentials(), RoomTypeName(type),
                       [this, generation = generation_, done = std::move(done)](
                           absl::StatusOr<wire::v1::RoomInfo> info) mutable {
                         if (generation != generation_ || shut_down_) {
                           return std::move(done)(
                               absl::AbortedError("the session ended meanwhile"));
                         }
                         if (!info.ok()) {
                           ReportRejection(info.status());
                           return std::move(done)(info.status());
                         }
                         RoomRecord room;
                         UpdateFromWire(*info, &room);
                         LOG(INFO) << "room " << room.room_id << " created";
                         std::move(done)(std::move(room));
                       });
}

void RoomRegistry::Get(const std::string& room_id, Done<RoomRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (absl::Status s = session_->CheckAuthenticated(); !s.ok()) return std::move(done)(s);
  backend_->GetRoom(*session_->credentials(), room_id,
                    [this, room_id, generation = generation_, done = std::move(done)](
                        absl::StatusOr<wire::v1::RoomInfo> info) mutable {
                      if (generation != generation_ || shut_down_) {
                        return std::move(done)(absl::AbortedError("the session ended meanwhile"));
                      }
                      if (!info.ok()) {
                        ReportRejection(info.status());
                        return std::move(done)(info.status());
                      }
                      RoomRecord out;
                      out.room_id = room_id;
                      if (RoomRecord* mine = Find(room_id); mine != nullptr) {
                        // The server's participant list is the fresher one.
                        UpdateFromWire(*info, mine);
                        events_->StateChanged();
                        out = *mine;
                      } else {
                        UpdateFromWire(*info, &out);
                      }
                      std::move(done)(std::move(out));
                    });
}

// --- Enter, exit, mute, delete --------------------------------------------------------

void RoomRegistry::Enter(const std::string& room_id, bool muted, Done<RoomRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (absl::Status s = session_->CheckAuthenticated(); !s.ok()) return std::move(done)(s);
  if (const RoomRecord* room = Find(room_id); room != nullptr) {
    return std::move(done)(CallsError(
        absl::StatusCode::kFailedPrecondition, kCodeAlreadyInRoom,
        absl::StrCat("this daemon is already in room ", room_id, " (",
                     RoomStateName(room->state), ")"),
        "room_id"));
  }
  RoomRecord room;
  room.room_id = room_id;
  room.state = RoomState::kEntering;
  room.muted = muted;
  rooms_[room_id] = std::move(room);
  events_->StateChanged();  // State.rooms shows it ENTERING
  LOG(INFO) << "entering room " << room_id << (muted ? " muted" : "");
  wire::v1::WsMessage enter = RoomMessage("enter", room_id);
  enter.set_muted(muted);
  SendRequest(std::move(enter), [this, room_id, done = std::move(done)](
                                    absl::StatusOr<wire::v1::WsMessage> answer) mutable {
    RoomRecord* room = Find(room_id);
    if (!answer.ok()) {
      if (room != nullptr && room->state == RoomState::kEntering) {
        rooms_.erase(room_id);
        events_->StateChanged();
      }
      // The server has this session in the room (an earlier enter that
      // timed out here went through): exit it there too, so that the two
      // sides agree and entering again works.
      if (GetCallsCode(answer.status()) == kCodeAlreadyInRoom) SendExit(room_id);
      LOG(INFO) << "could not enter room " << room_id << ": " << answer.status().message();
      return std::move(done)(answer.status());
    }
    if (room == nullptr || room->state != RoomState::kEntering) {
      return std::move(done)(
          absl::AbortedError(absl::StrCat("room ", room_id, " was left meanwhile")));
    }
    UpdateFromWire(answer->room(), room);
    room->state = RoomState::kEntered;
    LOG(INFO) << "entered room " << room_id;
    Publish(RoomChanged::Kind::kEntered, *room);
    std::move(done)(*room);
  });
}

void RoomRegistry::Exit(const std::string& room_id, Done<RoomRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  RoomRecord* room = Find(room_id);
  if (room == nullptr) return std::move(done)(NotInRoom(room_id));
  if (room->state == RoomState::kEntering) {
    return std::move(done)(CallsError(absl::StatusCode::kFailedPrecondition, 0,
                                      absl::StrCat("room ", room_id, " is still being entered"),
                                      "room_id", "try again in a moment"));
  }
  if (room->state == RoomState::kReconnecting || !owner_->channel_usable()) {
    // No way to tell the server now: it removes this participant after its
    // own reconnect window.
    return std::move(done)(Leave(room_id, RoomChanged::Kind::kExited, absl::OkStatus()));
  }
  LOG(INFO) << "exiting room " << room_id;
  SendRequest(RoomMessage("exit", room_id),
              [this, room_id, done = std::move(done)](
                  absl::StatusOr<wire::v1::WsMessage> answer) mutable {
                if (!answer.ok()) {
                  VLOG(1) << "exit of room " << room_id << ": " << answer.status().message();
                }
                // Whatever the server said, the room is left here.
                RoomRecord left = Leave(room_id, RoomChanged::Kind::kExited, {});
                left.room_id = room_id;
                left.state = RoomState::kExited;
                std::move(done)(std::move(left));
              });
}

void RoomRegistry::SetMuted(const std::string& room_id, bool muted, Done<RoomRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  absl::StatusOr<RoomRecord*> room = FindEntered(room_id, "be muted");
  if (!room.ok()) return std::move(done)(room.status());
  if ((*room)->muted == muted) return std::move(done)(**room);
  SendRequest(RoomMessage(muted ? "mute" : "unmute", room_id),
              [this, room_id, muted, done = std::move(done)](
                  absl::StatusOr<wire::v1::WsMessage> answer) mutable {
                if (!answer.ok()) return std::move(done)(answer.status());
                RoomRecord* room = Find(room_id);
                if (room == nullptr) return std::move(done)(NotInRoom(room_id));
                room->muted = muted;
                const SessionSnapshot& me = session_->snapshot();
                RoomParticipantRecord self{me.user_id, me.nickname, muted, std::nullopt};
                if (RoomParticipantRecord* p = room->Participant(me.user_id); p != nullptr) {
                  p->muted = muted;
                  self = *p;
                }
                events_->Publish(
                    RoomParticipantChanged{RoomParticipantChanged::Kind::kAudioChanged, *room,
                                           self});
                std::move(done)(*room);
              });
}

void RoomRegistry::Delete(const std::string& room_id, StatusDone done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (absl::Status s = session_->CheckAuthenticated(); !s.ok()) return std::move(done)(s);
  LOG(INFO) << "deleting room " << room_id;
  SendRequest(RoomMessage("delete_room", room_id),
              [this, room_id, done = std::move(done)](
                  absl::StatusOr<wire::v1::WsMessage> answer) mutable {
                if (!answer.ok()) return std::move(done)(answer.status());
                // room_deleted may follow; this daemon is out either way.
                if (Find(room_id) != nullptr) {
                  Leave(room_id, RoomChanged::Kind::kDeleted, absl::OkStatus());
                }
                std::move(done)(absl::OkStatus());
              });
}

// --- Unasked messages ---------------------------------------------------------------

void RoomRegistry::OnServerEvent(const wire::v1::WsMessage& m) {
  const std::string& type = m.type();
  RoomRecord* room = Find(m.room_id());
  if (room == nullptr || room->state == RoomState::kEntering) {
    VLOG(1) << "\"" << type.substr(0, 32) << "\" for a room this daemon is not in";
    return;
  }
  if (type == "participant_entered") {
    OnParticipant(room, RoomParticipantChanged::Kind::kEntered, m);
  } else if (type == "participant_exited") {
    OnParticipant(room, RoomParticipantChanged::Kind::kExited, m);
  } else if (type == "remote_audio_changed") {
    OnParticipant(room, RoomParticipantChanged::Kind::kAudioChanged, m);
  } else if (type == "room_deleted") {
    Leave(m.room_id(), RoomChanged::Kind::kDeleted,
          CallsError(absl::StatusCode::kFailedPrecondition, kCodeRoomDeleted,
                     absl::StrCat("room ", m.room_id(), " was deleted by its owner")));
  } else if (type == "error") {
    LOG(WARNING) << "the calls server reported about room " << m.room_id() << ": "
                 << m.message() << " (code " << m.code() << ")";
  } else {
    VLOG(1) << "ignoring a \"" << type.substr(0, 32) << "\" room message";
  }
}

void RoomRegistry::OnParticipant(RoomRecord* room, RoomParticipantChanged::Kind kind,
                                 const wire::v1::WsMessage& m) {
  // Who: as the server's room has them, else as the message says.
  RoomParticipantRecord who{m.user_id(), "", m.muted(), std::nullopt};
  if (const RoomParticipantRecord* known = room->Participant(m.user_id()); known != nullptr) {
    who = *known;
    if (kind == RoomParticipantChanged::Kind::kAudioChanged) who.muted = m.muted();
  }
  if (m.has_room()) {
    UpdateFromWire(m.room(), room);
    if (const RoomParticipantRecord* now = room->Participant(m.user_id()); now != nullptr) {
      who = *now;
    }
  } else if (kind == RoomParticipantChanged::Kind::kEntered) {
    if (room->Participant(m.user_id()) == nullptr) room->participants.push_back(who);
  } else if (kind == RoomParticipantChanged::Kind::kExited) {
    std::erase_if(room->participants,
                  [&](const RoomParticipantRecord& p) { return p.user_id == m.user_id(); });
  } else if (RoomParticipantRecord* p = room->Participant(m.user_id()); p != nullptr) {
    p->muted = m.muted();
  }
  events_->Publish(RoomParticipantChanged{kind, *room, who});
}

// --- Connection loss and the end of the session ------------------------------------

void RoomRegistry::OnReconnecting() {
  for (auto& [id, room] : rooms_) {
    if (room.state != RoomState::kEntered) continue;
    room.state = RoomState::kReconnecting;
    LOG(INFO) << "room " << id << " reconnecting";
    Publish(RoomChanged::Kind::kReconnecting, room);
  }
}

std::vector<std::string> RoomRegistry::ReconnectingIds() const {
  std::vector<std::string> ids;
  for (const auto& [id, room] : rooms_) {
    if (room.state == RoomState::kReconnecting) ids.push_back(id);
  }
  return ids;
}

void RoomRegistry::OnResumed(const std::set<std::string>& held) {
  // Exited here while reconnecting (the server could not be told then):
  // the resume took the participant back, so exit it now.
  for (const std::string& id : held) {
    if (Find(id) == nullptr) SendExit(id);
  }
  for (const std::string& id : ReconnectingIds()) {
    if (held.count(id) == 0) {
      Reenter(id);
      continue;
    }
    RoomRecord& room = rooms_[id];
    room.state = RoomState::kEntered;
    LOG(INFO) << "room " << id << " reconnected";
    Publish(RoomChanged::Kind::kReconnected, room);
  }
}

void RoomRegistry::Reenter(const std::string& room_id) {
  LOG(INFO) << "room " << room_id << " was not resumed (the server restarted?): entering it again";
  wire::v1::WsMessage enter = RoomMessage("enter", room_id);
  enter.set_muted(rooms_[room_id].muted);
  SendRequest(std::move(enter), [this, room_id](absl::StatusOr<wire::v1::WsMessage> answer) {
    RoomRecord* room = Find(room_id);
    if (room == nullptr || room->state != RoomState::kReconnecting) {
      // Exited meanwhile: do not stay in it on the server.
      if (answer.ok()) SendExit(room_id);
      return;
    }
    if (answer.ok()) {
      UpdateFromWire(answer->room(), room);
      room->state = RoomState::kEntered;
      LOG(INFO) << "room " << room_id << " reconnected (entered again)";
      Publish(RoomChanged::Kind::kReconnected, *room);
      return;
    }
    // The connection dropped again: the next resume takes the room along,
    // within the reconnect window.
    if (!owner_->channel_usable()) return;
    if (GetCallsCode(answer.status()) == kCodeRoomDeleted) {
      // Deleted by its owner while this daemon was away.
      Leave(room_id, RoomChanged::Kind::kDeleted, answer.status());
      return;
    }
    Leave(room_id, RoomChanged::Kind::kLocalParticipantDisconnected,
          WithHint(answer.status(), "the room could not be entered again after the reconnection"));
  });
}

void RoomRegistry::Disconnect(const absl::Status& why) {
  std::vector<std::string> ids;
  for (const auto& [id, room] : rooms_) ids.push_back(id);
  for (const std::string& id : ids) {
    Leave(id, RoomChanged::Kind::kLocalParticipantDisconnected, why);
  }
}

void RoomRegistry::SendExit(const std::string& room_id) {
  wire::v1::WsMessage exit = RoomMessage("exit", room_id);
  exit.set_req_id(absl::StrCat("room-", next_req_++));
  if (absl::Status s = owner_->SendOnChannel(exit); !s.ok()) {
    VLOG(1) << "cannot tell the server about leaving room " << room_id << ": " << s.message();
  }
}

void RoomRegistry::SendExits() {
  if (!owner_->channel_usable()) return;
  for (const auto& [id, room] : rooms_) {
    // An entering room may be entered by the time the server reads this.
    if (room.state == RoomState::kEntered || room.state == RoomState::kEntering) {
      SendExit(id);
    }
  }
}

void RoomRegistry::ExitAll(const absl::Status& why) {
  ++generation_;
  SendExits();
  FailRequests(why);
  std::vector<std::string> ids;
  for (const auto& [id, room] : rooms_) ids.push_back(id);
  for (const std::string& id : ids) Leave(id, RoomChanged::Kind::kExited, why);
}

void RoomRegistry::Shutdown() {
  SendExits();
  shut_down_ = true;
  FailRequests(ShuttingDown());
}

}  // namespace callsd::daemon
