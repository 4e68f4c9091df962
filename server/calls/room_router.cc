#include "server/calls/room_router.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "glog/logging.h"

namespace callsd::server {
namespace {

constexpr char kSmall[] = "small";
constexpr char kLarge[] = "large";

// Bytes of entropy of a room ID (16 URL-safe characters, as call IDs).
constexpr size_t kRoomIdBytes = 12;

int MaxParticipants(absl::string_view type) { return type == kLarge ? 20 : 6; }

}  // namespace

RoomRouter::RoomRouter(Store* store, Scheduler* scheduler, ConnectionSender* sender,
                       absl::Duration reconnect_window)
    : store_(store), scheduler_(scheduler), sender_(sender), reconnect_window_(reconnect_window) {}

RoomRouter::~RoomRouter() {
  for (auto& [id, live] : rooms_) {
    for (Participant& p : live.participants) scheduler_->Cancel(p.window);
  }
}

bool RoomRouter::Handles(const wire::v1::WsMessage& m) {
  const std::string& type = m.type();
  if (type == "enter" || type == "exit" || type == "delete_room") return true;
  return (type == "mute" || type == "unmute") && m.call_id().empty() && !m.room_id().empty();
}

size_t RoomRouter::participants() const {
  size_t n = 0;
  for (const auto& [id, live] : rooms_) n += live.participants.size();
  return n;
}

int64_t RoomRouter::NowMs() const { return absl::ToUnixMillis(scheduler_->clock().Now()); }

// ---- Connections ----------------------------------------------------------------

void RoomRouter::OnMessage(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m) {
  const std::string& type = m.type();
  if (type == "enter") return Enter(conn, who, m);
  if (type == "exit") return Exit(conn, who, m);
  if (type == "mute") return Mute(conn, who, m, true);
  if (type == "unmute") return Mute(conn, who, m, false);
  if (type == "delete_room") return Delete(conn, who, m);
  SendErrorReply(*sender_, conn, m,
                 CodeError(kCodeInvalidParams,
                           absl::StrCat("not a room message: \"", type.substr(0, 64), "\"")));
}

void RoomRouter::OnClose(ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  const std::set<std::string> room_ids = std::move(it->second);
  conns_.erase(it);
  for (const std::string& id : room_ids) {
    Live* live = FindLive(id);
    if (live == nullptr) continue;
    for (Participant& p : live->participants) {
      if (p.conn != conn) continue;
      LOG(INFO) << "room " << id << ": a participant's connection closed; waiting "
                << absl::FormatDuration(reconnect_window_) << " for it to resume";
      p.conn = 0;
      scheduler_->Cancel(p.window);
      p.window = scheduler_->RunAfter(
          reconnect_window_, [this, id, session = p.session_hash] { OnWindowOver(id, session); });
    }
  }
}

std::vector<std::string> RoomRouter::Resume(
    ConnId conn, const ConnectionInfo& who,
    const google::protobuf::RepeatedPtrField<std::string>& room_ids) {
  std::vector<std::string> held;
  for (const std::string& id : room_ids) {
    Live* live = FindLive(id);
    if (live == nullptr || live->record.app_id != who.app_id) continue;
    Participant* p = FindParticipant(*live, who.session_hash);
    if (p == nullptr) continue;
    Bind(id, *p, conn);
    held.push_back(id);
  }
  if (!room_ids.empty()) {
    LOG(INFO) << "connection " << conn << " resumed " << held.size() << " of " << room_ids.size()
              << " room(s)";
  }
  return held;
}

// ---- Requests -------------------------------------------------------------------

void RoomRouter::Enter(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m) {
  absl::StatusOr<RoomRecord> room = FindRoom(who.app_id, m.room_id());
  if (!room.ok()) return SendErrorReply(*sender_, conn, m, room.status());
  const std::string id = room->room_id;
  Live* live = FindLive(id);
  Participant* held = live != nullptr ? FindParticipant(*live, who.session_hash) : nullptr;
  if (held != nullptr && held->conn != 0) {
    return SendErrorReply(*sender_, conn, m,
                          CodeError(kCodeAlreadyInRoom, absl::StrCat("already in room ", id)));
  }
  const int max = MaxParticipants(room->type);
  if (held == nullptr && live != nullptr && live->participants.size() >= static_cast<size_t>(max)) {
    return SendErrorReply(
        *sender_, conn, m,
        CodeError(kCodeParticipantLimitReached,
                  absl::StrCat("room ", id, " is full (", max, " participants at most)")));
  }

  // Entering again from the same session within its reconnect window: the
  // others never saw it leave, so only its audio may be news to them.
  const bool rejoined = held != nullptr;
  const bool audio_changed = rejoined && held->muted != m.muted();
  if (!rejoined) {
    live = &rooms_[id];
    if (live->participants.empty()) live->record = *std::move(room);
    held = &live->participants.emplace_back();
    held->session_hash = who.session_hash;
    held->user_id = who.user_id;
    held->nickname = who.nickname;
    held->entered_at_ms = NowMs();
  }
  held->muted = m.muted();
  Bind(id, *held, conn);
  LOG(INFO) << "room " << id << ": " << (rejoined ? "entered again" : "entered") << " ("
            << live->participants.size() << " of " << max << ")";

  wire::v1::WsMessage entered;
  entered.set_type("entered");
  entered.set_room_id(id);
  *entered.mutable_room() = ToRoomInfo(live->record, live);
  SendReply(*sender_, conn, std::move(entered), m);
  if (!rejoined) {
    Broadcast(*live, About(*live, *held, "participant_entered", true), held->session_hash);
  } else if (audio_changed) {
    Broadcast(*live, About(*live, *held, "remote_audio_changed", false), held->session_hash);
  }
}

void RoomRouter::Exit(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m) {
  absl::StatusOr<Seat> seat = FindSeat(who, m.room_id());
  if (!seat.ok()) return SendErrorReply(*sender_, conn, m, seat.status());
  wire::v1::WsMessage exited;
  exited.set_type("exited");
  exited.set_room_id(seat->live->record.room_id);
  SendReply(*sender_, conn, std::move(exited), m);
  LOG(INFO) << "room " << seat->live->record.room_id << ": exited";
  Leave(*seat->live, who.session_hash);
}

void RoomRouter::Mute(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m,
                      bool muted) {
  absl::StatusOr<Seat> seat = FindSeat(who, m.room_id());
  if (!seat.ok()) return SendErrorReply(*sender_, conn, m, seat.status());
  const Live& live = *seat->live;
  Participant& p = *seat->participant;
  p.muted = muted;
  wire::v1::WsMessage ack;
  ack.set_type("ack");
  ack.set_room_id(live.record.room_id);
  ack.set_muted(muted);
  SendReply(*sender_, conn, std::move(ack), m);
  Broadcast(live, About(live, p, "remote_audio_changed", false), p.session_hash);
}

void RoomRouter::Delete(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m) {
  absl::StatusOr<RoomRecord> room = FindRoom(who.app_id, m.room_id());
  if (!room.ok()) return SendErrorReply(*sender_, conn, m, room.status());
  const std::string id = room->room_id;
  if (room->owner_rowid != who.user_rowid) {
    return SendErrorReply(
        *sender_, conn, m,
        CodeError(kCodeNotAllowed, absl::StrCat("only the owner can delete room ", id)));
  }
  if (absl::Status s = store_->MarkRoomDeleted(id, NowMs()); !s.ok()) {
    return SendErrorReply(*sender_, conn, m, s);
  }
  wire::v1::WsMessage ack;
  ack.set_type("ack");
  ack.set_room_id(id);
  SendReply(*sender_, conn, std::move(ack), m);

  auto it = rooms_.find(id);
  LOG(INFO) << "room " << id << " deleted by its owner ("
            << (it == rooms_.end() ? 0 : it->second.participants.size()) << " participant(s))";
  if (it == rooms_.end()) return;
  wire::v1::WsMessage deleted;
  deleted.set_type("room_deleted");
  deleted.set_room_id(id);
  Broadcast(it->second, deleted, "");
  for (const Participant& p : it->second.participants) {
    scheduler_->Cancel(p.window);
    auto held = conns_.find(p.conn);
    if (held != conns_.end()) held->second.erase(id);
  }
  rooms_.erase(it);
}

// ---- REST ---------------------------------------------------------------------

absl::StatusOr<wire::v1::RoomInfo> RoomRouter::Create(const UserRecord& owner,
                                                      absl::string_view type) {
  if (type.empty()) type = kSmall;
  if (type != kSmall && type != kLarge) {
    return CallsError(absl::StatusCode::kInvalidArgument, kCodeInvalidParams,
                      "type: must be \"small\" or \"large\"", "type");
  }
  RoomRecord r;
  r.room_id = RandomId(kRoomIdBytes);
  r.app_id = owner.app_id;
  r.type = std::string(type);
  r.owner_rowid = owner.rowid;
  r.owner_id = owner.user_id;
  r.created_at_ms = NowMs();
  absl::StatusOr<int64_t> rowid = store_->InsertRoom(r);
  if (!rowid.ok()) return rowid.status();
  r.rowid = *rowid;
  LOG(INFO) << "room " << r.room_id << " created (" << r.type << ")";
  return ToRoomInfo(r, nullptr);
}

absl::StatusOr<wire::v1::RoomInfo> RoomRouter::Get(const UserRecord& user,
                                                   absl::string_view room_id) {
  absl::StatusOr<RoomRecord> room = FindRoom(user.app_id, room_id);
  if (!room.ok()) return room.status();
  return ToRoomInfo(*room, FindLive(room->room_id));
}

// ---- Participants ---------------------------------------------------------------

void RoomRouter::OnWindowOver(const std::string& room_id, const std::string& session_hash) {
  Live* live = FindLive(room_id);
  if (live == nullptr) return;
  Participant* p = FindParticipant(*live, session_hash);
  if (p == nullptr) return;
  p->window = 0;
  if (p->conn != 0) return;
  LOG(INFO) << "room " << room_id << ": a participant did not come back in time";
  Leave(*live, session_hash);
}

void RoomRouter::Leave(Live& live, const std::string& session_hash) {
  auto it = std::find_if(live.participants.begin(), live.participants.end(),
                         [&](const Participant& p) { return p.session_hash == session_hash; });
  if (it == live.participants.end()) return;
  const Participant gone = std::move(*it);
  live.participants.erase(it);
  scheduler_->Cancel(gone.window);
  const std::string id = live.record.room_id;
  auto held = conns_.find(gone.conn);
  if (held != conns_.end()) held->second.erase(id);
  Broadcast(live, About(live, gone, "participant_exited", true), gone.session_hash);
  if (live.participants.empty()) rooms_.erase(id);  // `live` is gone
}

void RoomRouter::Bind(const std::string& room_id, Participant& p, ConnId conn) {
  if (p.conn != 0 && p.conn != conn) {
    auto old = conns_.find(p.conn);
    if (old != conns_.end()) old->second.erase(room_id);
  }
  p.conn = conn;
  scheduler_->Cancel(p.window);
  p.window = 0;
  conns_[conn].insert(room_id);
}

void RoomRouter::Broadcast(const Live& live, const wire::v1::WsMessage& message,
                           const std::string& except_session) {
  for (const Participant& p : live.participants) {
    if (p.conn != 0 && p.session_hash != except_session) sender_->Send(p.conn, message);
  }
}

wire::v1::WsMessage RoomRouter::About(const Live& live, const Participant& p,
                                      const std::string& type, bool with_room) const {
  wire::v1::WsMessage m;
  m.set_type(type);
  m.set_room_id(live.record.room_id);
  m.set_user_id(p.user_id);
  m.set_muted(p.muted);
  if (with_room) *m.mutable_room() = ToRoomInfo(live.record, &live);
  return m;
}

// ---- Lookups ------------------------------------------------------------------

absl::StatusOr<RoomRecord> RoomRouter::FindRoom(absl::string_view app_id,
                                                absl::string_view room_id) {
  if (room_id.empty()) return CodeError(kCodeMissingParams, "room_id is required");
  const std::string not_found = absl::StrCat("room ", room_id, " does not exist");
  if (Live* live = FindLive(std::string(room_id)); live != nullptr) {
    if (live->record.app_id != app_id) return CodeError(kCodeNotFound, not_found);
    return live->record;
  }
  absl::StatusOr<RoomRecord> stored = store_->GetRoom(room_id);
  if (absl::IsNotFound(stored.status()) || (stored.ok() && stored->app_id != app_id)) {
    return CodeError(kCodeNotFound, not_found);
  }
  if (!stored.ok()) return stored.status();
  if (stored->deleted) {
    return CodeError(kCodeRoomDeleted, absl::StrCat("room ", room_id, " has been deleted"));
  }
  return stored;
}

absl::StatusOr<RoomRouter::Seat> RoomRouter::FindSeat(const ConnectionInfo& who,
                                                      absl::string_view room_id) {
  absl::StatusOr<RoomRecord> room = FindRoom(who.app_id, room_id);
  if (!room.ok()) return room.status();
  Live* live = FindLive(room->room_id);
  Participant* p = live != nullptr ? FindParticipant(*live, who.session_hash) : nullptr;
  if (p == nullptr) {
    return CodeError(kCodeNotInRoom, absl::StrCat("not in room ", room->room_id));
  }
  return Seat{live, p};
}

RoomRouter::Live* RoomRouter::FindLive(const std::string& room_id) {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : &it->second;
}

RoomRouter::Participant* RoomRouter::FindParticipant(Live& live, const std::string& session_hash) {
  for (Participant& p : live.participants) {
    if (p.session_hash == session_hash) return &p;
  }
  return nullptr;
}

wire::v1::RoomInfo RoomRouter::ToRoomInfo(const RoomRecord& record, const Live* live) {
  wire::v1::RoomInfo info;
  info.set_room_id(record.room_id);
  info.set_type(record.type);
  info.set_owner_id(record.owner_id);
  info.set_max_participants(MaxParticipants(record.type));
  info.set_created_at(record.created_at_ms);
  if (live == nullptr) return info;
  for (const Participant& p : live->participants) {
    wire::v1::RoomParticipant* out = info.add_participants();
    out->set_user_id(p.user_id);
    out->set_nickname(p.nickname);
    out->set_muted(p.muted);
    out->set_entered_at(p.entered_at_ms);
  }
  return info;
}

}  // namespace callsd::server
