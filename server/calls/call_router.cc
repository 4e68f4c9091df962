#include "server/calls/call_router.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "glog/logging.h"
#include "server/calls/room_router.h"

namespace callsd::server {
namespace {

constexpr char kRinging[] = "ringing";
constexpr char kEstablished[] = "established";
constexpr char kConnected[] = "connected";
constexpr char kEnded[] = "ended";

// Bytes of entropy of a call ID (16 URL-safe characters).
constexpr size_t kCallIdBytes = 12;

absl::Status Error(int code, absl::string_view message) { return CodeError(code, message); }

}  // namespace

wire::v1::CallInfo ToCallInfo(const CallRecord& call) {
  wire::v1::CallInfo info;
  info.set_call_id(call.call_id);
  info.mutable_caller()->set_user_id(call.caller_id);
  info.mutable_caller()->set_nickname(call.caller_nickname);
  info.mutable_callee()->set_user_id(call.callee_id);
  info.mutable_callee()->set_nickname(call.callee_nickname);
  info.set_video(call.video);
  info.set_state(call.state);
  info.set_created_at(call.created_at_ms);
  info.set_established_at(call.established_at_ms);
  info.set_connected_at(call.connected_at_ms);
  info.set_ended_at(call.ended_at_ms);
  info.set_end_result(call.end_result);
  info.set_duration_ms(call.duration_ms);
  info.set_ended_by(call.ended_by);
  return info;
}

CallRouter::CallRouter(Store* store, Scheduler* scheduler, ConnectionSender* sender, Pusher* pusher,
                       CallRouterOptions options)
    : store_(store),
      scheduler_(scheduler),
      sender_(sender),
      pusher_(pusher),
      options_(std::move(options)) {}

CallRouter::~CallRouter() {
  for (auto& [id, live] : calls_) {
    scheduler_->Cancel(live.ringing_timer);
    scheduler_->Cancel(live.caller_window);
    scheduler_->Cancel(live.callee_window);
  }
}

int64_t CallRouter::NowMs() const { return absl::ToUnixMillis(scheduler_->clock().Now()); }

absl::StatusOr<int> CallRouter::Recover() {
  absl::StatusOr<std::vector<CallRecord>> unended = store_->ListUnendedCalls();
  if (!unended.ok()) return unended.status();
  int count = 0;
  for (CallRecord& record : *unended) {
    if (calls_.count(record.call_id) != 0) continue;
    record.caller_conn = 0;
    record.callee_conn = 0;
    Live& live = calls_[record.call_id];
    live.record = std::move(record);
    Save(live.record);
    const std::string& id = live.record.call_id;
    if (live.record.state == kRinging) {
      live.ringing_timer = scheduler_->RunAt(
          absl::FromUnixMillis(live.record.created_at_ms) + options_.ringing_timeout,
          [this, id] { OnRingingTimeout(id); });
      StartWindow(live, Side::kCaller);
    } else {
      StartWindow(live, Side::kCaller);
      StartWindow(live, Side::kCallee);
    }
    ++count;
  }
  if (count > 0) {
    LOG(INFO) << count << " call(s) in progress before the restart wait "
              << absl::FormatDuration(options_.reconnect_window) << " for their sides to resume";
  }
  return count;
}

// ---- Connections --------------------------------------------------------------

void CallRouter::OnOpen(ConnId conn, ConnectionInfo who) {
  wire::v1::WsMessage hello;
  hello.set_type("hello");
  hello.set_user_id(who.user_id);
  conns_[conn].who = std::move(who);
  VLOG(1) << "connection " << conn << " open (" << conns_.size() << " in all)";
  SendTo(conn, hello);
}

void CallRouter::OnClose(ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  const std::set<std::string> call_ids = std::move(it->second.calls);
  conns_.erase(it);
  if (rooms_ != nullptr) rooms_->OnClose(conn);
  VLOG(1) << "connection " << conn << " closed (" << conns_.size() << " left)";
  for (const std::string& id : call_ids) {
    auto found = calls_.find(id);
    if (found == calls_.end()) continue;
    Live& live = found->second;
    CallRecord& r = live.record;
    const bool caller = r.caller_conn == conn;
    const bool callee = r.callee_conn == conn;
    if (!caller && !callee) continue;
    if (r.state == kRinging) {
      if (caller) {
        LOG(INFO) << "call " << id << ": the caller's connection closed while ringing";
        r.caller_conn = 0;
        CancelRinging(live, 0, "");
        continue;
      }
      r.callee_conn = 0;
      Save(r);
      continue;
    }
    LOG(INFO) << "call " << id << ": the " << (caller ? "caller" : "callee")
              << "'s connection closed; waiting " << absl::FormatDuration(options_.reconnect_window)
              << " for it to resume";
    if (caller) {
      r.caller_conn = 0;
      StartWindow(live, Side::kCaller);
    }
    if (callee) {
      r.callee_conn = 0;
      StartWindow(live, Side::kCallee);
    }
    Save(r);
  }
}

void CallRouter::OnMessage(ConnId conn, const wire::v1::WsMessage& m) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  const Conn& c = it->second;
  if (rooms_ != nullptr && RoomRouter::Handles(m)) return rooms_->OnMessage(conn, c.who, m);
  const std::string& type = m.type();
  if (type == "dial") return Dial(conn, c, m);
  if (type == "accept") return Accept(conn, c, m);
  if (type == "end") return End(conn, c, m);
  if (type == "mute") return Mute(conn, c, m, true);
  if (type == "unmute") return Mute(conn, c, m, false);
  if (type == "resume") return Resume(conn, c, m);
  if (type == "ping") {
    wire::v1::WsMessage pong;
    pong.set_type("pong");
    return Reply(conn, std::move(pong), m);
  }
  if (type.empty()) return ReplyError(conn, m, Error(kCodeMissingParams, "type is required"));
  ReplyError(
      conn, m,
      Error(kCodeInvalidParams, absl::StrCat("unknown message type \"", type.substr(0, 64), "\"")));
}

// ---- Requests -------------------------------------------------------------------

void CallRouter::Dial(ConnId conn, const Conn& c, const wire::v1::WsMessage& m) {
  const std::string& callee_id = m.callee_id();
  if (callee_id.empty())
    return ReplyError(conn, m, Error(kCodeMissingParams, "callee_id is required"));
  if (callee_id == c.who.user_id) {
    return ReplyError(conn, m, Error(kCodeDialMyself, "you cannot call yourself"));
  }
  absl::StatusOr<UserRecord> callee = store_->GetUser(c.who.app_id, callee_id);
  if (absl::IsNotFound(callee.status())) {
    return ReplyError(
        conn, m,
        Error(kCodeCalleeDoesNotExist, absl::StrCat("callee ", callee_id, " does not exist")));
  }
  if (!callee.ok()) return ReplyError(conn, m, callee.status());
  if (callee->authenticated_at_ms == 0) {
    return ReplyError(conn, m,
                      Error(kCodeCalleeNeverAuthenticated,
                            absl::StrCat("callee ", callee_id, " has never authenticated")));
  }

  CallRecord r;
  r.call_id = RandomId(kCallIdBytes);
  r.app_id = c.who.app_id;
  r.caller_rowid = c.who.user_rowid;
  r.caller_id = c.who.user_id;
  r.caller_nickname = c.who.nickname;
  r.callee_rowid = callee->rowid;
  r.callee_id = callee->user_id;
  r.callee_nickname = callee->nickname;
  r.video = m.video();
  r.state = kRinging;
  r.created_at_ms = NowMs();
  r.caller_session = c.who.session_hash;
  r.caller_conn = conn;
  absl::StatusOr<int64_t> rowid = store_->InsertCall(r);
  if (!rowid.ok()) return ReplyError(conn, m, rowid.status());
  r.rowid = *rowid;

  const std::string id = r.call_id;
  Live& live = calls_[id];
  live.record = std::move(r);
  conns_[conn].calls.insert(id);
  live.ringing_timer =
      scheduler_->RunAfter(options_.ringing_timeout, [this, id] { OnRingingTimeout(id); });
  LOG(INFO) << "call " << id << " dialed (" << (live.record.video ? "video" : "audio") << ")";

  wire::v1::WsMessage dialing;
  dialing.set_type("dialing");
  dialing.set_call_id(id);
  *dialing.mutable_call() = ToCallInfo(live.record);
  Reply(conn, std::move(dialing), m);

  PushJob job;
  job.app_id = live.record.app_id;
  job.user_id = live.record.callee_id;
  job.token_type = PushType::kVoip;
  job.type = "call.ringing";
  job.call_id = id;
  job.caller_id = live.record.caller_id;
  job.caller_nickname = live.record.caller_nickname;
  job.video = live.record.video;
  job.ttl_s = static_cast<int32_t>(absl::ToInt64Seconds(options_.ringing_timeout));
  pusher_->Push(std::move(job), [this, id]() { OnPushDelivered(id); });
}

void CallRouter::OnPushDelivered(const std::string& call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  Live& live = it->second;
  if (live.record.state != kRinging || live.ringing_acked) return;
  live.ringing_acked = true;
  VLOG(1) << "call " << call_id << ": a device of the callee got the push";
  if (live.record.caller_conn == 0) return;
  wire::v1::WsMessage ack;
  ack.set_type("ringing_ack");
  ack.set_call_id(call_id);
  SendTo(live.record.caller_conn, ack);
}

void CallRouter::Accept(ConnId conn, const Conn& c, const wire::v1::WsMessage& m) {
  absl::StatusOr<Live*> found = Lookup(c.who.app_id, c.who.user_rowid, m.call_id());
  if (!found.ok()) return ReplyError(conn, m, found.status());
  Live& live = **found;
  CallRecord& r = live.record;
  if (r.callee_rowid != c.who.user_rowid) {
    return ReplyError(conn, m, Error(kCodeNotAllowed, "only the callee can accept a call"));
  }
  if (r.state != kRinging) {
    return ReplyError(conn, m,
                      Error(kCodeInvalidCallStatus,
                            absl::StrCat("call ", r.call_id, " is ", r.state, ", not ringing")));
  }
  const std::string id = r.call_id;
  scheduler_->Cancel(live.ringing_timer);
  live.ringing_timer = 0;
  r.state = kEstablished;
  r.established_at_ms = NowMs();
  Bind(live, Side::kCallee, conn, c.who.session_hash);
  Save(r);
  LOG(INFO) << "call " << id << " accepted";

  wire::v1::WsMessage established;
  established.set_type("established");
  established.set_call_id(id);
  *established.mutable_call() = ToCallInfo(r);
  Reply(conn, established, m);
  if (r.caller_conn != 0) SendTo(r.caller_conn, established);

  // No media to set up here: the call connects at once.
  r.state = kConnected;
  r.connected_at_ms = NowMs();
  Save(r);
  wire::v1::WsMessage connected;
  connected.set_type("connected");
  connected.set_call_id(id);
  *connected.mutable_call() = ToCallInfo(r);
  SendTo(conn, connected);
  if (r.caller_conn != 0) SendTo(r.caller_conn, connected);

  PushToCallee(r, PushType::kVoip, "call.canceled", "other_device_accepted");
}

void CallRouter::End(ConnId conn, const Conn& c, const wire::v1::WsMessage& m) {
  absl::StatusOr<Live*> found = Lookup(c.who.app_id, c.who.user_rowid, m.call_id());
  if (!found.ok()) return ReplyError(conn, m, found.status());
  Live& live = **found;
  const CallRecord& r = live.record;
  const bool by_caller = r.caller_rowid == c.who.user_rowid;
  if (r.state == kRinging) {
    if (by_caller) {
      CancelRinging(live, conn, m.req_id());
      return;
    }
    LOG(INFO) << "call " << r.call_id << " declined";
    CallRecord ended = Finish(live, "declined", c.who.user_id, conn, m.req_id());
    PushToCallee(ended, PushType::kVoip, "call.canceled", "declined");
    return;
  }
  LOG(INFO) << "call " << r.call_id << " ended by the " << (by_caller ? "caller" : "callee");
  Finish(live, "completed", c.who.user_id, conn, m.req_id());
}

void CallRouter::Mute(ConnId conn, const Conn& c, const wire::v1::WsMessage& m, bool muted) {
  absl::StatusOr<Live*> found = Lookup(c.who.app_id, c.who.user_rowid, m.call_id());
  if (!found.ok()) return ReplyError(conn, m, found.status());
  const CallRecord& r = (*found)->record;
  wire::v1::WsMessage ack;
  ack.set_type("ack");
  ack.set_call_id(r.call_id);
  Reply(conn, std::move(ack), m);
  const ConnId other = r.caller_rowid == c.who.user_rowid ? r.callee_conn : r.caller_conn;
  if (other == 0) return;
  wire::v1::WsMessage changed;
  changed.set_type("remote_audio_changed");
  changed.set_call_id(r.call_id);
  changed.set_user_id(c.who.user_id);
  changed.set_muted(muted);
  SendTo(other, changed);
}

void CallRouter::Resume(ConnId conn, const Conn& c, const wire::v1::WsMessage& m) {
  wire::v1::WsMessage resumed;
  resumed.set_type("resumed");
  int taken = 0;
  for (const std::string& id : m.call_ids()) {
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    Live& live = it->second;
    CallRecord& r = live.record;
    if (r.app_id != c.who.app_id) continue;
    const bool caller = r.caller_rowid == c.who.user_rowid;
    const bool callee = r.callee_rowid == c.who.user_rowid;
    if (!caller && !callee) continue;
    if (caller) {
      Bind(live, Side::kCaller, conn, c.who.session_hash);
    } else if (r.state != kRinging) {
      Bind(live, Side::kCallee, conn, c.who.session_hash);
    }
    Save(r);
    ++taken;
    *resumed.add_calls() = ToCallInfo(r);
  }
  LOG(INFO) << "connection " << conn << " resumed " << taken << " of " << m.call_ids_size()
            << " call(s)";
  if (rooms_ != nullptr) {
    for (std::string& id : rooms_->Resume(conn, c.who, m.room_ids())) {
      resumed.add_room_ids(std::move(id));
    }
  }
  Reply(conn, std::move(resumed), m);
}

absl::StatusOr<CallRecord> CallRouter::Decline(const UserRecord& user, absl::string_view call_id) {
  absl::StatusOr<Live*> found = Lookup(user.app_id, user.rowid, call_id);
  if (!found.ok()) return found.status();
  Live& live = **found;
  if (live.record.callee_rowid != user.rowid) {
    return Error(kCodeNotAllowed, "only the callee can decline a call");
  }
  if (live.record.state != kRinging) {
    return Error(kCodeInvalidCallStatus, absl::StrCat("call ", live.record.call_id, " is ",
                                                      live.record.state, ", not ringing"));
  }
  LOG(INFO) << "call " << live.record.call_id << " declined";
  CallRecord ended = Finish(live, "declined", user.user_id, 0, "");
  PushToCallee(ended, PushType::kVoip, "call.canceled", "declined");
  return ended;
}

// ---- Endings --------------------------------------------------------------------

CallRecord CallRouter::CancelRinging(Live& live, ConnId requester, const std::string& req_id) {
  LOG(INFO) << "call " << live.record.call_id << " canceled";
  const std::string caller_id = live.record.caller_id;
  CallRecord ended = Finish(live, "canceled", caller_id, requester, req_id);
  PushToCallee(ended, PushType::kVoip, "call.canceled", "canceled");
  PushToCallee(ended, PushType::kRemote, "call.missed", "canceled");
  return ended;
}

void CallRouter::OnRingingTimeout(const std::string& call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  Live& live = it->second;
  live.ringing_timer = 0;
  if (live.record.state != kRinging) return;
  LOG(INFO) << "call " << call_id << " was not answered in time";
  CallRecord ended = Finish(live, "no_answer", "", 0, "");
  PushToCallee(ended, PushType::kVoip, "call.canceled", "timed_out");
  PushToCallee(ended, PushType::kRemote, "call.missed", "timed_out");
}

void CallRouter::OnWindowOver(const std::string& call_id, Side side) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  Live& live = it->second;
  CallRecord& r = live.record;
  if (side == Side::kCaller) {
    live.caller_window = 0;
    if (r.caller_conn != 0) return;
  } else {
    live.callee_window = 0;
    if (r.callee_conn != 0 || r.state == kRinging) return;
  }
  LOG(INFO) << "call " << call_id << ": the " << (side == Side::kCaller ? "caller" : "callee")
            << " did not come back in time";
  if (r.state == kRinging) {
    CancelRinging(live, 0, "");
    return;
  }
  Finish(live, "connection_lost", "", 0, "");
}

CallRecord CallRouter::Finish(Live& live, const std::string& result, const std::string& ended_by,
                              ConnId requester, const std::string& req_id) {
  CallRecord& r = live.record;
  scheduler_->Cancel(live.ringing_timer);
  scheduler_->Cancel(live.caller_window);
  scheduler_->Cancel(live.callee_window);
  r.state = kEnded;
  r.ended_at_ms = NowMs();
  r.end_result = result;
  r.ended_by = ended_by;
  r.duration_ms =
      r.connected_at_ms > 0 ? std::max<int64_t>(0, r.ended_at_ms - r.connected_at_ms) : 0;
  Save(r);

  // Each recipient's view: the callee's "no_answer" is "timed_out".
  auto ended = [&r](bool for_callee) {
    wire::v1::WsMessage m;
    m.set_type("ended");
    m.set_call_id(r.call_id);
    m.set_end_result(for_callee && r.end_result == "no_answer" ? "timed_out" : r.end_result);
    m.set_duration_ms(r.duration_ms);
    m.set_ended_by(r.ended_by);
    *m.mutable_call() = ToCallInfo(r);
    return m;
  };
  if (requester != 0) {
    auto it = conns_.find(requester);
    const bool callee = it != conns_.end() && it->second.who.user_rowid == r.callee_rowid;
    wire::v1::WsMessage answer = ended(callee);
    if (!req_id.empty()) answer.set_req_id(req_id);
    SendTo(requester, answer);
  }
  if (r.caller_conn != 0 && r.caller_conn != requester) SendTo(r.caller_conn, ended(false));
  if (r.callee_conn != 0 && r.callee_conn != requester) SendTo(r.callee_conn, ended(true));

  for (ConnId conn : {r.caller_conn, r.callee_conn}) {
    auto it = conns_.find(conn);
    if (it != conns_.end()) it->second.calls.erase(r.call_id);
  }
  LOG(INFO) << "call " << r.call_id << " ended: " << r.end_result << " (" << r.duration_ms
            << " ms)";
  CallRecord ended_call = std::move(r);
  calls_.erase(ended_call.call_id);  // `live` is gone
  return ended_call;
}

// ---- Helpers --------------------------------------------------------------------

absl::StatusOr<CallRouter::Live*> CallRouter::Lookup(absl::string_view app_id, int64_t user_rowid,
                                                     absl::string_view call_id) {
  if (call_id.empty()) return Error(kCodeMissingParams, "call_id is required");
  const std::string not_found = absl::StrCat("call ", call_id, " does not exist");
  auto it = calls_.find(std::string(call_id));
  if (it != calls_.end()) {
    const CallRecord& r = it->second.record;
    if (r.app_id != app_id || (r.caller_rowid != user_rowid && r.callee_rowid != user_rowid)) {
      return Error(kCodeCallDoesNotExist, not_found);
    }
    return &it->second;
  }
  absl::StatusOr<CallRecord> stored = store_->GetCall(call_id);
  if (absl::IsNotFound(stored.status())) return Error(kCodeCallDoesNotExist, not_found);
  if (!stored.ok()) return stored.status();
  if (stored->app_id != app_id ||
      (stored->caller_rowid != user_rowid && stored->callee_rowid != user_rowid)) {
    return Error(kCodeCallDoesNotExist, not_found);
  }
  return Error(kCodeInvalidCallStatus,
               absl::StrCat("call ", call_id, " has ended (", stored->end_result, ")"));
}

void CallRouter::Bind(Live& live, Side side, ConnId conn, const std::string& session_hash) {
  CallRecord& r = live.record;
  ConnId& slot = side == Side::kCaller ? r.caller_conn : r.callee_conn;
  TimerId& window = side == Side::kCaller ? live.caller_window : live.callee_window;
  if (slot != 0 && slot != conn) {
    auto old = conns_.find(slot);
    if (old != conns_.end()) old->second.calls.erase(r.call_id);
  }
  slot = conn;
  (side == Side::kCaller ? r.caller_session : r.callee_session) = session_hash;
  scheduler_->Cancel(window);
  window = 0;
  auto it = conns_.find(conn);
  if (it != conns_.end()) it->second.calls.insert(r.call_id);
}

void CallRouter::StartWindow(Live& live, Side side) {
  TimerId& window = side == Side::kCaller ? live.caller_window : live.callee_window;
  scheduler_->Cancel(window);
  const std::string id = live.record.call_id;
  window =
      scheduler_->RunAfter(options_.reconnect_window, [this, id, side] { OnWindowOver(id, side); });
}

void CallRouter::PushToCallee(const CallRecord& call, PushType token_type, const std::string& type,
                              const std::string& end_result) {
  PushJob job;
  job.app_id = call.app_id;
  job.user_id = call.callee_id;
  job.token_type = token_type;
  job.type = type;
  job.call_id = call.call_id;
  job.caller_id = call.caller_id;
  job.caller_nickname = call.caller_nickname;
  job.video = call.video;
  job.ttl_s = 60;
  job.end_result = end_result;
  pusher_->Push(std::move(job), nullptr);
}

void CallRouter::Save(const CallRecord& call) {
  absl::Status status = store_->UpdateCall(call);
  if (!status.ok()) LOG(ERROR) << "cannot store call " << call.call_id << ": " << status;
}

void CallRouter::Reply(ConnId conn, wire::v1::WsMessage message,
                       const wire::v1::WsMessage& request) {
  SendReply(*sender_, conn, std::move(message), request);
}

void CallRouter::ReplyError(ConnId conn, const wire::v1::WsMessage& request,
                            const absl::Status& status) {
  SendErrorReply(*sender_, conn, request, status);
}

void CallRouter::SendTo(ConnId conn, const wire::v1::WsMessage& message) {
  sender_->Send(conn, message);
}

}  // namespace callsd::server
