#include "daemon/calls/call_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/fault_point.h"
#include "daemon/push/push_verifier.h"
#include "glog/logging.h"

namespace callsd::daemon {
namespace {

absl::Status ShuttingDown() { return absl::UnavailableError("callsd is shutting down"); }

std::optional<absl::Time> ServerTime(int64_t ms) {
  if (ms <= 0) return std::nullopt;
  return absl::FromUnixMillis(ms);
}

CallState StateFromServer(const std::string& state, const CallRecord& call) {
  if (state == "connected") return CallState::kConnected;
  if (state == "established") return CallState::kEstablished;
  if (state == "ringing") return CallState::kRinging;
  return call.state;
}

}  // namespace

const char* CallRegistry::PushOutcomeName(PushOutcome outcome) {
  switch (outcome) {
    case PushOutcome::kRang: return "rang";
    case PushOutcome::kDuplicate: return "duplicate";
    case PushOutcome::kCallEnded: return "call_ended";
    case PushOutcome::kCanceled: return "canceled";
    case PushOutcome::kMissed: return "missed";
  }
  return "";
}

CallRegistry::CallRegistry(Scheduler* engine, StateStore* store, Backend* backend,
                           CallChannel* channel, Session* session, EventSink* events,
                           Options options)
    : engine_(engine),
      store_(store),
      backend_(backend),
      channel_(channel),
      session_(session),
      events_(events),
      options_(options),
      reconnect_backoff_(absl::Milliseconds(200), absl::Seconds(3)),
      rooms_(std::make_unique<RoomRegistry>(
          engine, backend, session, events, static_cast<RoomChannelOwner*>(this),
          RoomRegistry::Options{.request_timeout = options.request_timeout})) {}

CallRegistry::~CallRegistry() {
  for (auto& [id, timer] : ringing_timers_) engine_->Cancel(timer);
  for (auto& [id, timer] : waiting_timers_) engine_->Cancel(timer);
  for (auto& [id, request] : requests_) engine_->Cancel(request.timer);
  engine_->Cancel(reconnect_timer_);
  engine_->Cancel(window_timer_);
}

absl::Status CallRegistry::Start() {
  const absl::Time now = engine_->clock().Now();
  if (absl::Status s = store_->DeleteCallsEndedBefore(now - options_.keep_ended); !s.ok()) {
    return s;
  }
  auto calls = store_->LoadCalls();
  if (!calls.ok()) return calls.status();
  for (CallRecord& c : *calls) {
    const std::string id = c.call_id;
    calls_[id] = c;
    CallRecord& call = calls_[id];
    if (call.ended()) continue;
    if (call.direction == CallDirection::kIncoming && call.state == CallState::kRinging) {
      if (call.ringing_until && *call.ringing_until > now) {
        LOG(INFO) << "call " << id << " from " << call.caller_id << " still rings";
        ScheduleRingingTimeout(call);
      } else {
        EndCall(&call, EndResult::kTimedOut, "");
      }
      continue;
    }
    // Its WebSocket died with the previous process.
    LOG(INFO) << "call " << id << " was " << CallStateName(call.state)
              << " when callsd stopped: ended as connection_lost";
    EndCall(&call, EndResult::kConnectionLost, "");
  }
  return absl::OkStatus();
}

void CallRegistry::Shutdown() {
  // The rooms' exits go out before the channel closes.
  rooms_->Shutdown();
  shut_down_ = true;
  FailRequests(ShuttingDown());
  RunWaiting(ShuttingDown());
  for (auto& [id, timer] : ringing_timers_) engine_->Cancel(timer);
  ringing_timers_.clear();
  engine_->Cancel(reconnect_timer_);
  engine_->Cancel(window_timer_);
  reconnect_timer_ = window_timer_ = 0;
  // Hang up what is active: the peer learns at once instead of after the
  // server's reconnect window.
  for (auto& [id, call] : calls_) {
    if (!call.active() || call.state == CallState::kReconnecting) continue;
    wire::v1::WsMessage end;
    end.set_type("end");
    end.set_call_id(id);
    channel_->Send(end);
  }
  channel_->Close();
}

// --- Lookups --------------------------------------------------------------------

CallRecord* CallRegistry::Find(const std::string& call_id) {
  auto it = calls_.find(call_id);
  return it == calls_.end() ? nullptr : &it->second;
}

std::vector<const CallRecord*> CallRegistry::OngoingRefs() const {
  std::vector<const CallRecord*> out;
  for (const auto& [id, call] : calls_) {
    if (!call.ended()) out.push_back(&call);
  }
  std::sort(out.begin(), out.end(), [](const CallRecord* a, const CallRecord* b) {
    return a->started_at > b->started_at;
  });
  return out;
}

std::vector<CallRecord> CallRegistry::Ongoing() const {
  std::vector<CallRecord> out;
  for (const CallRecord* call : OngoingRefs()) out.push_back(*call);
  return out;
}

std::vector<CallRecord> CallRegistry::List() const {
  std::vector<CallRecord> out = Ongoing();
  std::vector<CallRecord> ended;
  for (const auto& [id, call] : calls_) {
    if (call.ended()) ended.push_back(call);
  }
  std::sort(ended.begin(), ended.end(), [](const CallRecord& a, const CallRecord& b) {
    return a.ended_at.value_or(a.started_at) > b.ended_at.value_or(b.started_at);
  });
  if (ended.size() > 20) ended.resize(20);
  out.insert(out.end(), ended.begin(), ended.end());
  return out;
}

bool CallRegistry::channel_needed() const {
  for (const auto& [id, call] : calls_) {
    if (call.active()) return true;
  }
  return rooms_->channel_needed();
}

absl::Status CallRegistry::CheckAnswerable(const std::string& call_id) {
  CallRecord* call = Find(call_id);
  if (call == nullptr) {
    return CallsError(absl::StatusCode::kNotFound, kCodeCallDoesNotExist,
                      absl::StrCat("no call ", call_id, " on this daemon"), "call_id",
                      "list the calls with: callsctl calls");
  }
  if (call->direction != CallDirection::kIncoming) {
    return CallsError(absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
                      absl::StrCat("call ", call_id, " is an outgoing call"));
  }
  if (call->ended()) {
    return CallsError(absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
                      absl::StrCat("call ", call_id, " has ended (",
                                   EndResultName(call->end_result), ")"));
  }
  for (const Waiting& w : waiting_) {
    if (w.call_id == call_id) {
      return CallsError(absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
                        absl::StrCat("call ", call_id, " was already ",
                                     w.kind == Waiting::Kind::kAccept ? "accepted" : "declined",
                                     " (waiting for authentication)"));
    }
  }
  if (call->state != CallState::kRinging) {
    return CallsError(absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
                      absl::StrCat("call ", call_id, " was already accepted"));
  }
  for (const auto& [req_id, request] : requests_) {
    if (request.call_id == call_id) {
      return CallsError(absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
                        absl::StrCat("call ", call_id, " was already accepted"));
    }
  }
  if (declining_.count(call_id) > 0) {
    return CallsError(absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
                      absl::StrCat("call ", call_id, " was already declined"));
  }
  return absl::OkStatus();
}

// --- Events and storage -----------------------------------------------------------

void CallRegistry::Changed(CallChanged::Kind kind, const CallRecord& call) {
  FaultPoint("call.changed");
  events_->Publish(CallChanged{kind, call});
}

void CallRegistry::Save(const CallRecord& call) {
  // Written after the event went out: watchers hear of a ring without
  // waiting for the disk; the server still has the call if this is lost.
  if (absl::Status s = store_->SaveCall(call); !s.ok()) {
    LOG(ERROR) << "cannot store call " << call.call_id << ": " << s;
  }
}

// --- Ringing ------------------------------------------------------------------------

void CallRegistry::Ring(CallRecord call) {
  const absl::Time now = engine_->clock().Now();
  call.direction = CallDirection::kIncoming;
  call.state = CallState::kRinging;
  if (!call.ringing_until) call.ringing_until = now + options_.ringing_timeout;
  const std::string id = call.call_id;
  calls_[id] = std::move(call);
  LOG(INFO) << "incoming call " << id << " from " << calls_[id].caller_id << " rings";
  Changed(CallChanged::Kind::kRinging, calls_[id]);
  Save(calls_[id]);
  ScheduleRingingTimeout(calls_[id]);
}

void CallRegistry::ScheduleRingingTimeout(const CallRecord& call) {
  if (!call.ringing_until) return;
  const std::string id = call.call_id;
  engine_->Cancel(ringing_timers_[id]);
  ringing_timers_[id] = engine_->RunAt(*call.ringing_until, [this, id] {
    ringing_timers_.erase(id);
    CallRecord* c = Find(id);
    if (c == nullptr || c->state != CallState::kRinging || declining_.count(id) > 0) return;
    LOG(INFO) << "call " << id << " was not answered in time";
    EndCall(c, EndResult::kTimedOut, "");
  });
}

void CallRegistry::EndCall(CallRecord* call, EndResult result, const std::string& ended_by,
                           std::optional<int64_t> duration_ms) {
  if (call->ended()) return;
  const std::string id = call->call_id;
  call->state = CallState::kEnded;
  call->end_result = result;
  call->ended_by = ended_by;
  call->ended_at = engine_->clock().Now();
  if (duration_ms && call->connected_at) {
    // The server's billing is the reference.
    call->ended_at = *call->connected_at + absl::Milliseconds(*duration_ms);
  }
  if (auto it = ringing_timers_.find(id); it != ringing_timers_.end()) {
    engine_->Cancel(it->second);
    ringing_timers_.erase(it);
  }
  LOG(INFO) << "call " << id << " ended: " << EndResultName(result)
            << (ended_by.empty() ? "" : " by " + ended_by);
  const CallRecord snapshot = *call;
  // Whoever waited on it hears why.
  const absl::Status gone = CallsError(
      absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
      absl::StrCat("call ", id, " has ended (", EndResultName(result), ")"));
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->call_id != id) {
      ++it;
      continue;
    }
    Done<CallRecord> done = std::move(it->done);
    it = waiting_.erase(it);
    std::move(done)(gone);
  }
  if (auto it = waiting_timers_.find(id); it != waiting_timers_.end()) {
    engine_->Cancel(it->second);
    waiting_timers_.erase(it);
  }
  // Requests still out for it are answered now: the socket may close below
  // and their answers would never come. Another app's End got what it
  // asked for; anything else is too late.
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.call_id != id) {
      ++it;
      continue;
    }
    Request request = std::move(it->second);
    it = requests_.erase(it);
    engine_->Cancel(request.timer);
    if (request.type == "end") {
      std::move(request.done)(snapshot);
    } else {
      std::move(request.done)(gone);
    }
  }
  Changed(CallChanged::Kind::kEnded, snapshot);
  Save(snapshot);
  MaybeCloseChannel();
}

// --- Dial ---------------------------------------------------------------------------

void CallRegistry::Dial(const std::string& callee_id, bool video, Done<CallRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (absl::Status s = session_->CheckAuthenticated(); !s.ok()) return std::move(done)(s);
  const SessionSnapshot& me = session_->snapshot();
  if (callee_id == me.user_id) {
    return std::move(done)(CallsError(absl::StatusCode::kInvalidArgument, kCodeDialMyself,
                                      "you cannot call yourself", "callee_id"));
  }
  CallRecord call;
  call.call_id = absl::StrCat("dialing-", next_local_++);
  call.direction = CallDirection::kOutgoing;
  call.caller_id = me.user_id;
  call.caller_nickname = me.nickname;
  call.callee_id = callee_id;
  call.video = video;
  call.state = CallState::kDialing;
  call.started_at = engine_->clock().Now();
  const std::string local_id = call.call_id;
  calls_[local_id] = call;
  LOG(INFO) << "dialing " << callee_id;

  wire::v1::WsMessage dial;
  dial.set_type("dial");
  dial.set_callee_id(callee_id);
  dial.set_video(video);
  dial.set_call_id(local_id);  // the request's key here; the server ignores it
  SendRequest(std::move(dial), [this, local_id, done = std::move(done)](
                                   absl::StatusOr<CallRecord> result) mutable {
    if (!result.ok()) {
      if (CallRecord* c = Find(local_id); c != nullptr && !c->ended()) {
        EndCall(c, EndResult::kDialFailed, "");
      }
      calls_.erase(local_id);  // it never existed on the server
      return std::move(done)(result.status());
    }
    std::move(done)(std::move(result));
  });
}

// --- Accept and decline -----------------------------------------------------------

void CallRegistry::Accept(const std::string& call_id, Done<CallRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (absl::Status s = CheckAnswerable(call_id); !s.ok()) return std::move(done)(s);
  switch (session_->state()) {
    case SessionState::kAuthenticated:
      return StartAccept(call_id, std::move(done));
    case SessionState::kAuthenticating:
      break;
    default:
      return std::move(done)(session_->CheckAuthenticated());
  }
  // Fulfilled when the authentication in progress completes; bounded by
  // the call's ringing (EndCall answers it).
  LOG(INFO) << "accept of call " << call_id << " waits for the authentication";
  waiting_.push_back(Waiting{Waiting::Kind::kAccept, call_id, std::move(done)});
}

void CallRegistry::Decline(const std::string& call_id, Done<CallRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  if (absl::Status s = CheckAnswerable(call_id); !s.ok()) return std::move(done)(s);
  switch (session_->state()) {
    case SessionState::kAuthenticated:
      return StartDecline(call_id, std::move(done));
    case SessionState::kAuthenticating:
      break;
    default:
      return std::move(done)(session_->CheckAuthenticated());
  }
  LOG(INFO) << "decline of call " << call_id << " waits for the authentication";
  waiting_.push_back(Waiting{Waiting::Kind::kDecline, call_id, std::move(done)});
}

void CallRegistry::RunWaiting(const absl::Status& auth_result) {
  std::deque<Waiting> waiting = std::move(waiting_);
  waiting_.clear();
  for (Waiting& w : waiting) {
    if (!auth_result.ok()) {
      absl::Status why = auth_result;
      if (auth_result.code() != absl::StatusCode::kUnavailable) {
        why = CallsError(absl::StatusCode::kUnauthenticated, kCodeNotAuthenticated,
                         absl::StrCat("the authentication failed: ", auth_result.message()), {},
                         GetErrorHint(auth_result));
      }
      std::move(w.done)(why);
      continue;
    }
    CallRecord* call = Find(w.call_id);
    if (call == nullptr || call->state != CallState::kRinging) {
      std::move(w.done)(CallsError(absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
                                   absl::StrCat("call ", w.call_id, " stopped ringing")));
      continue;
    }
    if (w.kind == Waiting::Kind::kAccept) {
      StartAccept(w.call_id, std::move(w.done));
    } else {
      StartDecline(w.call_id, std::move(w.done));
    }
  }
}

void CallRegistry::StartAccept(const std::string& call_id, Done<CallRecord> done) {
  CallRecord* call = Find(call_id);
  call->state = CallState::kAccepting;
  Save(*call);
  LOG(INFO) << "accepting call " << call_id;
  wire::v1::WsMessage accept;
  accept.set_type("accept");
  accept.set_call_id(call_id);
  SendRequest(std::move(accept), [this, call_id, done = std::move(done)](
                                     absl::StatusOr<CallRecord> result) mutable {
    if (!result.ok()) {
      if (CallRecord* c = Find(call_id); c != nullptr && !c->ended()) {
        EndCall(c, EndResult::kAcceptFailed, session_->snapshot().user_id);
      }
    }
    std::move(done)(std::move(result));
  });
}

void CallRegistry::StartDecline(const std::string& call_id, Done<CallRecord> done) {
  const std::optional<SessionCredentials> creds = session_->credentials();
  declining_.insert(call_id);
  LOG(INFO) << "declining call " << call_id;
  backend_->DeclineCall(*creds, call_id, [this, call_id, generation = generation_,
                                          done = std::move(done)](absl::Status status) mutable {
    declining_.erase(call_id);
    CallRecord* call = Find(call_id);
    if (generation != generation_ || call == nullptr) {
      return std::move(done)(absl::AbortedError("the session ended meanwhile"));
    }
    if (!status.ok()) {
      if (IsSessionRejection(status)) session_->OnSessionRejected(status);
      return std::move(done)(status);
    }
    EndCall(call, EndResult::kDeclined, session_->snapshot().user_id);
    std::move(done)(*Find(call_id));
  });
}

// --- End, mute ----------------------------------------------------------------------

void CallRegistry::End(const std::string& call_id, Done<CallRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  CallRecord* call = Find(call_id);
  if (call == nullptr) {
    return std::move(done)(CallsError(absl::StatusCode::kNotFound, kCodeCallDoesNotExist,
                                      absl::StrCat("no call ", call_id, " on this daemon"),
                                      "call_id"));
  }
  if (call->ended()) {
    return std::move(done)(CallsError(
        absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
        absl::StrCat("call ", call_id, " has already ended (", EndResultName(call->end_result),
                     ")")));
  }
  if (call->direction == CallDirection::kIncoming && call->state == CallState::kRinging) {
    return Decline(call_id, std::move(done));
  }
  const std::string me = session_->snapshot().user_id;
  const EndResult local = call->state == CallState::kConnected ? EndResult::kCompleted
                                                                : EndResult::kCanceled;
  if (call->state == CallState::kReconnecting || !channel_->active()) {
    // No way to tell the server now: it ends the call after its own
    // reconnect window.
    EndCall(call, local, me);
    return std::move(done)(*Find(call_id));
  }
  wire::v1::WsMessage end;
  end.set_type("end");
  end.set_call_id(call_id);
  SendRequest(std::move(end), [this, call_id, local, me, done = std::move(done)](
                                  absl::StatusOr<CallRecord> result) mutable {
    CallRecord* c = Find(call_id);
    if (c == nullptr) return std::move(done)(std::move(result));
    // Whatever the server said, the call is over here.
    if (!c->ended()) EndCall(c, local, me);
    std::move(done)(*Find(call_id));
  });
}

void CallRegistry::SetMuted(const std::string& call_id, bool muted, Done<CallRecord> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  CallRecord* call = Find(call_id);
  if (call == nullptr) {
    return std::move(done)(CallsError(absl::StatusCode::kNotFound, kCodeCallDoesNotExist,
                                      absl::StrCat("no call ", call_id, " on this daemon"),
                                      "call_id"));
  }
  if (call->state != CallState::kEstablished && call->state != CallState::kConnected) {
    return std::move(done)(CallsError(
        absl::StatusCode::kFailedPrecondition, kCodeInvalidCallStatus,
        absl::StrCat("call ", call_id, " is ", CallStateName(call->state),
                     "; only an established call can be muted")));
  }
  if (call->muted != muted) {
    call->muted = muted;
    wire::v1::WsMessage message;
    message.set_type(muted ? "mute" : "unmute");
    message.set_req_id(absl::StrCat("m", next_req_++));
    message.set_call_id(call_id);
    channel_->Send(message);
    Changed(CallChanged::Kind::kLocalAudioChanged, *call);
  }
  std::move(done)(*call);
}

// --- History ------------------------------------------------------------------------

void CallRegistry::GetHistory(int limit, const std::string& next, Done<History> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  const SessionSnapshot& s = session_->snapshot();
  if (s.app_id.empty() || s.user_id.empty()) {
    return std::move(done)(session_->CheckAuthenticated());
  }
  auto from_cache = [this, limit](absl::Status why) -> absl::StatusOr<History> {
    auto cached = store_->LoadCallLog(limit);
    if (!cached.ok()) return cached.status();
    VLOG(1) << "call history from the local copy (" << why.message() << ")";
    History h;
    h.calls = *std::move(cached);
    h.from_cache = true;
    return h;
  };
  const std::optional<SessionCredentials> creds = session_->credentials();
  if (!creds) return std::move(done)(from_cache(absl::UnavailableError("not authenticated")));
  backend_->ListCallLogs(*creds, limit, next,
                         [this, from_cache, done = std::move(done)](
                             absl::StatusOr<wire::v1::CallList> list) mutable {
                           if (!list.ok()) {
                             if (IsSessionRejection(list.status())) {
                               session_->OnSessionRejected(list.status());
                             }
                             if (list.status().code() == absl::StatusCode::kUnavailable ||
                                 IsSessionRejection(list.status())) {
                               return std::move(done)(from_cache(list.status()));
                             }
                             return std::move(done)(list.status());
                           }
                           History h;
                           h.calls.assign(list->calls().begin(), list->calls().end());
                           h.next = list->next();
                           if (absl::Status s = store_->SaveCallLog(h.calls); !s.ok()) {
                             LOG(ERROR) << "cannot cache the call log: " << s;
                           }
                           std::move(done)(std::move(h));
                         });
}

// --- Pushes -------------------------------------------------------------------------

void CallRegistry::DeliverPush(const std::string& payload, Done<PushResult> done) {
  if (shut_down_) return std::move(done)(ShuttingDown());
  const SessionSnapshot& s = session_->snapshot();
  PushContext context;
  context.app_id = s.app_id;
  context.user_id = s.user_id;
  context.push_key = session_->push_key();
  context.now = engine_->clock().Now();
  absl::StatusOr<wire::v1::PushPayload> push = VerifyPush(payload, context);
  if (!push.ok()) {
    LOG(WARNING) << push.status().message();
    return std::move(done)(push.status());
  }
  CallRecord* call = Find(push->call_id());
  PushResult result;
  if (call != nullptr && call->ended()) {
    LOG(INFO) << push->type() << " push for call " << push->call_id() << ", which has ended";
    events_->Publish(PushForEndedCall{push->call_id(), push->type(), *call});
    result.outcome = PushOutcome::kCallEnded;
    result.call = *call;
    return std::move(done)(result);
  }
  if (push->type() == "call.ringing") {
    if (call != nullptr) {
      VLOG(1) << "duplicate push for call " << push->call_id();
      result.outcome = PushOutcome::kDuplicate;
      result.call = *call;
      return std::move(done)(result);
    }
    CallRecord incoming;
    incoming.call_id = push->call_id();
    incoming.caller_id = push->caller().user_id();
    incoming.caller_nickname = push->caller().nickname();
    incoming.callee_id = s.user_id;
    incoming.callee_nickname = s.nickname;
    incoming.video = push->video();
    incoming.started_at = absl::FromUnixMillis(push->sent_at());
    Ring(std::move(incoming));
    result.outcome = PushOutcome::kRang;
    result.call = calls_[push->call_id()];
    return std::move(done)(result);
  }
  if (push->type() == "call.canceled") {
    const EndResult why = push->end_result().empty() ? EndResult::kCanceled
                                                      : EndResultFromName(push->end_result());
    if (call != nullptr && call->direction == CallDirection::kIncoming &&
        call->state == CallState::kRinging && declining_.count(call->call_id) == 0) {
      EndCall(call, why, why == EndResult::kCanceled ? call->caller_id : "");
      result.outcome = PushOutcome::kCanceled;
      result.call = *Find(push->call_id());
      return std::move(done)(result);
    }
    if (call != nullptr) {
      // Accepted here (the push is for this user's other devices).
      result.outcome = PushOutcome::kDuplicate;
      result.call = *call;
      return std::move(done)(result);
    }
    // Never seen ringing: remembered as ended, so that a late ringing push
    // for it does not ring.
    CallRecord ended;
    ended.call_id = push->call_id();
    ended.direction = CallDirection::kIncoming;
    ended.caller_id = push->caller().user_id();
    ended.caller_nickname = push->caller().nickname();
    ended.callee_id = s.user_id;
    ended.started_at = absl::FromUnixMillis(push->sent_at());
    ended.state = CallState::kEnded;
    ended.end_result = why;
    ended.ended_at = context.now;
    calls_[ended.call_id] = ended;
    Save(ended);
    events_->Publish(PushForEndedCall{push->call_id(), push->type(), ended});
    result.outcome = PushOutcome::kCallEnded;
    result.call = ended;
    return std::move(done)(result);
  }
  // call.missed
  result.outcome = PushOutcome::kMissed;
  if (call != nullptr) result.call = *call;
  std::move(done)(result);
}

void CallRegistry::RecoverMissedPushes(const SessionCredentials& creds) {
  backend_->ListRingingCalls(
      creds, [this, generation = generation_](
                 absl::StatusOr<std::vector<wire::v1::CallInfo>> calls) {
        if (generation != generation_ || shut_down_) return;
        if (!calls.ok()) {
          LOG(WARNING) << "cannot ask the server for ringing calls: " << calls.status().message();
          return;
        }
        const SessionSnapshot& me = session_->snapshot();
        const absl::Time now = engine_->clock().Now();
        for (const wire::v1::CallInfo& info : *calls) {
          if (Find(info.call_id()) != nullptr || info.callee().user_id() != me.user_id) continue;
          const absl::Time created = absl::FromUnixMillis(info.created_at());
          if (created + options_.ringing_timeout <= now) continue;
          CallRecord call;
          call.call_id = info.call_id();
          call.caller_id = info.caller().user_id();
          call.caller_nickname = info.caller().nickname();
          call.callee_id = me.user_id;
          call.callee_nickname = me.nickname;
          call.video = info.video();
          call.started_at = created;
          call.ringing_until = created + options_.ringing_timeout;
          LOG(INFO) << "call " << call.call_id << " rang while no push got through";
          Ring(std::move(call));
        }
      });
}

// --- The WebSocket --------------------------------------------------------------------

void CallRegistry::EnsureChannel() {
  if (channel_->active() || reconnecting_) return;
  const std::optional<SessionCredentials> creds = session_->credentials();
  if (!creds) return;
  VLOG(1) << "opening the WebSocket";
  channel_->Open(*creds, this);
}

void CallRegistry::MaybeCloseChannel() {
  if (channel_needed()) return;
  if (reconnecting_) {
    reconnecting_ = false;
    engine_->Cancel(reconnect_timer_);
    engine_->Cancel(window_timer_);
    reconnect_timer_ = window_timer_ = 0;
  }
  if (channel_->active()) {
    VLOG(1) << "no active call or room left: closing the WebSocket";
    channel_->Close();
  }
}

absl::Status CallRegistry::SendOnChannel(const wire::v1::WsMessage& message) {
  if (shut_down_) return ShuttingDown();
  if (reconnecting_) {
    return CallsError(absl::StatusCode::kUnavailable, 0,
                      "the connection to the calls server is being re-established", {},
                      "try again in a moment");
  }
  EnsureChannel();
  if (!channel_->active()) {
    absl::Status why = session_->CheckAuthenticated();
    return why.ok() ? absl::UnavailableError("cannot open the WebSocket to the calls server")
                    : why;
  }
  channel_->Send(message);
  return absl::OkStatus();
}

bool CallRegistry::channel_usable() const { return channel_->active() && !reconnecting_; }

void CallRegistry::SendRequest(wire::v1::WsMessage message, Done<CallRecord> done) {
  const std::string req_id = absl::StrCat("r", next_req_++);
  message.set_req_id(req_id);
  Request request;
  request.type = message.type();
  request.call_id = message.call_id();
  request.done = std::move(done);
  request.timer = engine_->RunAfter(options_.request_timeout,
                                    [this, req_id] { OnRequestTimeout(req_id); });
  requests_.emplace(req_id, std::move(request));
  if (message.type() == "dial") message.clear_call_id();
  EnsureChannel();
  channel_->Send(message);
}

void CallRegistry::OnRequestTimeout(const std::string& req_id) {
  auto it = requests_.find(req_id);
  if (it == requests_.end()) return;
  Request request = std::move(it->second);
  requests_.erase(it);
  LOG(WARNING) << request.type << " got no answer from the calls server in time";
  std::move(request.done)(absl::UnavailableError(absl::StrCat(
      "the calls server did not answer ", request.type, " within ",
      absl::FormatDuration(options_.request_timeout))));
}

void CallRegistry::FailRequests(const absl::Status& why) {
  std::map<std::string, Request> requests = std::move(requests_);
  requests_.clear();
  for (auto& [req_id, request] : requests) {
    engine_->Cancel(request.timer);
    std::move(request.done)(why);
  }
}

void CallRegistry::OnChannelOpen() {
  VLOG(1) << "WebSocket open";
  if (!reconnecting_) return;
  // Take the calls back on the new connection.
  wire::v1::WsMessage resume;
  resume.set_type("resume");
  resume_req_id_ = absl::StrCat("r", next_req_++);
  resume.set_req_id(resume_req_id_);
  for (const auto& [id, call] : calls_) {
    if (call.state == CallState::kReconnecting) resume.add_call_ids(id);
  }
  for (const std::string& id : rooms_->ReconnectingIds()) resume.add_room_ids(id);
  channel_->Send(resume);
}

void CallRegistry::OnChannelMessage(const wire::v1::WsMessage& m) {
  if (shut_down_) return;
  if (!m.req_id().empty() && m.req_id() == resume_req_id_) {
    resume_req_id_.clear();
    reconnecting_ = false;
    engine_->Cancel(window_timer_);
    engine_->Cancel(reconnect_timer_);
    window_timer_ = reconnect_timer_ = 0;
    reconnect_backoff_.Reset();
    std::set<std::string> resumed;
    for (const wire::v1::CallInfo& info : m.calls()) {
      CallRecord* call = Find(info.call_id());
      if (call == nullptr || call->state != CallState::kReconnecting) continue;
      resumed.insert(info.call_id());
      call->state = StateFromServer(info.state(), *call);
      if (call->state == CallState::kReconnecting) call->state = CallState::kConnected;
      LOG(INFO) << "call " << info.call_id() << " reconnected";
      Changed(CallChanged::Kind::kReconnected, *call);
      Save(*call);
    }
    for (auto& [id, call] : calls_) {
      if (call.state == CallState::kReconnecting && resumed.count(id) == 0) {
        EndCall(&call, EndResult::kConnectionLost, "");
      }
    }
    rooms_->OnResumed(std::set<std::string>(m.room_ids().begin(), m.room_ids().end()));
    MaybeCloseChannel();
    return;
  }
  if (rooms_->OnChannelMessage(m)) return;
  if (!m.req_id().empty()) {
    auto it = requests_.find(m.req_id());
    if (it == requests_.end()) {
      VLOG(1) << "answer to an unknown or finished request (" << m.type() << ")";
      if (m.type() == "ended") OnEnded(m);
      return;
    }
    Request request = std::move(it->second);
    requests_.erase(it);
    engine_->Cancel(request.timer);
    if (m.type() == "error") {
      return std::move(request.done)(CallsError(StatusCodeForServerCode(m.code()), m.code(),
                                                m.message()));
    }
    if (request.type == "dial" && m.type() == "dialing") {
      CallRecord* local = Find(request.call_id);
      if (local == nullptr) return std::move(request.done)(absl::AbortedError("call gone"));
      CallRecord call = *local;
      calls_.erase(request.call_id);
      call.call_id = m.call().call_id();
      call.callee_nickname = m.call().callee().nickname();
      calls_[call.call_id] = call;
      LOG(INFO) << "call " << call.call_id << " to " << call.callee_id << " created";
      Changed(CallChanged::Kind::kDialing, call);
      Save(call);
      return std::move(request.done)(call);
    }
    if (request.type == "accept" && m.type() == "established") {
      OnServerCall(m.call(), CallChanged::Kind::kEstablished);
    } else if (request.type == "end" && m.type() == "ended") {
      OnEnded(m);
    }
    CallRecord* call = Find(request.call_id);
    if (call == nullptr) return std::move(request.done)(absl::AbortedError("call gone"));
    return std::move(request.done)(*call);
  }
  const std::string& type = m.type();
  if (type == "ringing_ack") {
    CallRecord* call = Find(m.call_id());
    if (call != nullptr && call->direction == CallDirection::kOutgoing &&
        call->state == CallState::kDialing) {
      call->state = CallState::kRinging;
      Changed(CallChanged::Kind::kRemoteRinging, *call);
      Save(*call);
    }
  } else if (type == "established") {
    OnServerCall(m.call(), CallChanged::Kind::kEstablished);
  } else if (type == "connected") {
    OnServerCall(m.call(), CallChanged::Kind::kConnected);
  } else if (type == "ended") {
    OnEnded(m);
  } else if (type == "remote_audio_changed") {
    CallRecord* call = Find(m.call_id());
    if (call != nullptr && !call->ended()) {
      call->remote_muted = m.muted();
      events_->Publish(RemoteAudioChanged{*call, m.muted()});
    }
  } else if (type == "error") {
    LOG(WARNING) << "the calls server reported: " << m.message() << " (code " << m.code() << ")";
  } else {
    VLOG(1) << "ignoring a \"" << type.substr(0, 32) << "\" message";
  }
}

void CallRegistry::OnServerCall(const wire::v1::CallInfo& info, CallChanged::Kind kind) {
  CallRecord* call = Find(info.call_id());
  if (call == nullptr || call->ended()) return;
  const absl::Time now = engine_->clock().Now();
  if (kind == CallChanged::Kind::kEstablished) {
    if (call->state == CallState::kEstablished || call->state == CallState::kConnected) return;
    call->state = CallState::kEstablished;
    call->established_at = ServerTime(info.established_at()).value_or(now);
  } else if (kind == CallChanged::Kind::kConnected) {
    if (call->state == CallState::kConnected) return;
    if (!call->established_at) call->established_at = now;
    call->state = CallState::kConnected;
    call->connected_at = ServerTime(info.connected_at()).value_or(now);
  }
  if (!info.callee().nickname().empty()) call->callee_nickname = info.callee().nickname();
  if (!info.caller().nickname().empty()) call->caller_nickname = info.caller().nickname();
  LOG(INFO) << "call " << call->call_id << " " << CallStateName(call->state);
  Changed(kind, *call);
  Save(*call);
}

void CallRegistry::OnEnded(const wire::v1::WsMessage& m) {
  CallRecord* call = Find(m.call_id());
  if (call == nullptr || call->ended()) return;
  std::optional<int64_t> duration;
  if (m.duration_ms() > 0) duration = m.duration_ms();
  EndCall(call, EndResultFromName(m.end_result()), m.ended_by(), duration);
}

void CallRegistry::OnChannelClosed(const absl::Status& why) {
  if (shut_down_) return;
  LOG(WARNING) << "WebSocket closed: " << why.message();
  resume_req_id_.clear();
  const absl::Status lost = absl::UnavailableError(
      absl::StrCat("lost the connection to the calls server: ", why.message()));
  FailRequests(lost);
  rooms_->FailRequests(lost);
  if (IsSessionRejection(why)) {
    session_->OnSessionRejected(why);
    for (auto& [id, call] : calls_) {
      if (call.active()) EndCall(&call, EndResult::kConnectionLost, "");
    }
    rooms_->Disconnect(why);
    return;
  }
  if (channel_needed()) StartReconnecting(why);
}

void CallRegistry::StartReconnecting(const absl::Status& why) {
  if (!reconnecting_) {
    reconnecting_ = true;
    reconnect_backoff_.Reset();
    for (auto& [id, call] : calls_) {
      if (!call.active() || call.state == CallState::kReconnecting) continue;
      call.state = CallState::kReconnecting;
      LOG(INFO) << "call " << id << " reconnecting";
      Changed(CallChanged::Kind::kReconnecting, call);
    }
    rooms_->OnReconnecting();
    window_timer_ =
        engine_->RunAfter(options_.reconnect_window, [this] { OnReconnectWindowOver(); });
  }
  engine_->Cancel(reconnect_timer_);
  reconnect_timer_ = engine_->RunAfter(reconnect_backoff_.Next(), [this] {
    reconnect_timer_ = 0;
    TryReconnect();
  });
}

void CallRegistry::TryReconnect() {
  if (!reconnecting_ || shut_down_) return;
  const std::optional<SessionCredentials> creds = session_->credentials();
  if (!creds) {
    // Not authenticated (yet): try again until the window closes.
    reconnect_timer_ = engine_->RunAfter(reconnect_backoff_.Next(), [this] {
      reconnect_timer_ = 0;
      TryReconnect();
    });
    return;
  }
  channel_->Open(*creds, this);
}

void CallRegistry::OnReconnectWindowOver() {
  window_timer_ = 0;
  if (!reconnecting_) return;
  LOG(WARNING) << "could not reconnect to the calls server in time";
  reconnecting_ = false;
  engine_->Cancel(reconnect_timer_);
  reconnect_timer_ = 0;
  for (auto& [id, call] : calls_) {
    if (call.state == CallState::kReconnecting) EndCall(&call, EndResult::kConnectionLost, "");
  }
  rooms_->Disconnect(absl::UnavailableError(
      absl::StrCat("could not reconnect to the calls server within ",
                   absl::FormatDuration(options_.reconnect_window))));
  channel_->Close();
}

// --- Session life -----------------------------------------------------------------

void CallRegistry::OnAuthenticated(const SessionCredentials& creds) {
  RunWaiting(absl::OkStatus());
  RecoverMissedPushes(creds);
}

void CallRegistry::OnSessionSuspended(const absl::Status& reason) { RunWaiting(reason); }

void CallRegistry::OnSessionEnded(bool app_changed) {
  ++generation_;
  const absl::Status gone = CallsError(absl::StatusCode::kAborted, 0,
                                       app_changed ? "the APP_ID changed" : "logged out");
  // Exits go out first, while the WebSocket is still open.
  rooms_->ExitAll(gone);
  FailRequests(gone);
  RunWaiting(gone);
  // Hang up what is active (best effort; the server learns at once).
  for (auto& [id, call] : calls_) {
    if (!call.active() || call.state == CallState::kReconnecting) continue;
    wire::v1::WsMessage end;
    end.set_type("end");
    end.set_call_id(id);
    channel_->Send(end);
  }
  const std::string me;
  if (app_changed) {
    // The store was wiped with the old app: forget the calls quietly.
    for (auto& [id, timer] : ringing_timers_) engine_->Cancel(timer);
    ringing_timers_.clear();
    for (auto& [id, call] : calls_) {
      if (!call.ended()) {
        call.state = CallState::kEnded;
        call.end_result = EndResult::kUnknown;
        call.ended_at = engine_->clock().Now();
        Changed(CallChanged::Kind::kEnded, call);
      }
    }
    calls_.clear();
  } else {
    for (auto& [id, call] : calls_) {
      if (!call.ended()) {
        EndCall(&call, call.state == CallState::kConnected ? EndResult::kCompleted
                                                           : EndResult::kCanceled,
                me);
      }
    }
  }
  reconnecting_ = false;
  engine_->Cancel(reconnect_timer_);
  engine_->Cancel(window_timer_);
  reconnect_timer_ = window_timer_ = 0;
  channel_->Close();
}

}  // namespace callsd::daemon
