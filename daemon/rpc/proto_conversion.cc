#include "daemon/rpc/proto_conversion.h"

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "daemon/rpc/status_conversion.h"

namespace callsd::daemon::rpc {

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t ns = absl::ToUnixNanos(t);
  out->set_seconds(ns / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
}

callsd::v1::SessionState ToProto(SessionState state) {
  switch (state) {
    case SessionState::kNotInitialized: return callsd::v1::SESSION_STATE_NOT_INITIALIZED;
    case SessionState::kLoggedOut: return callsd::v1::SESSION_STATE_LOGGED_OUT;
    case SessionState::kAuthenticating: return callsd::v1::SESSION_STATE_AUTHENTICATING;
    case SessionState::kAuthenticated: return callsd::v1::SESSION_STATE_AUTHENTICATED;
    case SessionState::kTokenRequired: return callsd::v1::SESSION_STATE_TOKEN_REQUIRED;
  }
  return callsd::v1::SESSION_STATE_UNSPECIFIED;
}

callsd::v1::TokenKind ToProto(TokenKind kind) {
  return kind == TokenKind::kSessionToken ? callsd::v1::TOKEN_KIND_SESSION_TOKEN
                                          : callsd::v1::TOKEN_KIND_ACCESS_TOKEN;
}

callsd::v1::PushTokenType ToProto(PushType type) {
  return type == PushType::kVoip ? callsd::v1::PUSH_TOKEN_TYPE_VOIP
                                 : callsd::v1::PUSH_TOKEN_TYPE_REMOTE;
}

absl::StatusOr<PushType> FromProto(callsd::v1::PushTokenType type) {
  switch (type) {
    case callsd::v1::PUSH_TOKEN_TYPE_VOIP: return PushType::kVoip;
    case callsd::v1::PUSH_TOKEN_TYPE_REMOTE: return PushType::kRemote;
    default:
      return InvalidField("type", absl::StrCat("must be PUSH_TOKEN_TYPE_VOIP or "
                                               "PUSH_TOKEN_TYPE_REMOTE, got ",
                                               static_cast<int>(type)));
  }
}

void ToProto(const StoredPushToken& t, callsd::v1::PushToken* out) {
  out->set_type(ToProto(t.type));
  out->set_token(t.token);
  switch (t.state) {
    case PushTokenState::kPending:
      out->set_server_state(callsd::v1::PUSH_TOKEN_SERVER_STATE_PENDING);
      break;
    case PushTokenState::kRegistered:
      out->set_server_state(callsd::v1::PUSH_TOKEN_SERVER_STATE_REGISTERED);
      break;
    case PushTokenState::kFailed:
      out->set_server_state(callsd::v1::PUSH_TOKEN_SERVER_STATE_FAILED);
      break;
  }
  if (t.error_code != 0 || !t.error.empty()) {
    out->mutable_error()->set_calls_code(t.error_code);
    out->mutable_error()->set_message(t.error);
  }
  ToProto(t.updated_at, out->mutable_updated_at());
}

void ToProto(const CallRecord& c, absl::Time now, callsd::v1::Call* out) {
  out->set_call_id(c.call_id);
  out->set_direction(c.direction == CallDirection::kIncoming
                         ? callsd::v1::CALL_DIRECTION_INCOMING
                         : callsd::v1::CALL_DIRECTION_OUTGOING);
  out->mutable_caller()->set_user_id(c.caller_id);
  out->mutable_caller()->set_nickname(c.caller_nickname);
  out->mutable_callee()->set_user_id(c.callee_id);
  out->mutable_callee()->set_nickname(c.callee_nickname);
  *out->mutable_peer() =
      c.direction == CallDirection::kIncoming ? out->caller() : out->callee();
  out->set_video(c.video);
  out->set_state(static_cast<callsd::v1::CallState>(static_cast<int>(c.state)));
  ToProto(c.started_at, out->mutable_started_at());
  if (c.established_at) ToProto(*c.established_at, out->mutable_established_at());
  if (c.connected_at) ToProto(*c.connected_at, out->mutable_connected_at());
  if (c.ended_at) ToProto(*c.ended_at, out->mutable_ended_at());
  out->set_end_result(static_cast<callsd::v1::EndResult>(static_cast<int>(c.end_result)));
  out->set_ended_by(c.ended_by);
  out->set_duration_ms(absl::ToInt64Milliseconds(c.Duration(now)));
  out->set_muted(c.muted);
  out->set_remote_muted(c.remote_muted);
  if (c.ringing_until && c.state == CallState::kRinging) {
    ToProto(*c.ringing_until, out->mutable_ringing_until());
  }
}

void ToProto(const wire::v1::CallInfo& info, const std::string& me, callsd::v1::Call* out) {
  CallRecord c;
  c.call_id = info.call_id();
  c.direction = info.caller().user_id() == me ? CallDirection::kOutgoing : CallDirection::kIncoming;
  c.caller_id = info.caller().user_id();
  c.caller_nickname = info.caller().nickname();
  c.callee_id = info.callee().user_id();
  c.callee_nickname = info.callee().nickname();
  c.video = info.video();
  c.started_at = absl::FromUnixMillis(info.created_at());
  auto time = [](int64_t ms) {
    return ms > 0 ? std::optional<absl::Time>(absl::FromUnixMillis(ms)) : std::nullopt;
  };
  c.established_at = time(info.established_at());
  c.connected_at = time(info.connected_at());
  c.ended_at = time(info.ended_at());
  c.state = info.state() == "ended"         ? CallState::kEnded
            : info.state() == "connected"   ? CallState::kConnected
            : info.state() == "established" ? CallState::kEstablished
                                            : CallState::kRinging;
  c.end_result = info.end_result().empty() ? EndResult::kNone : EndResultFromName(info.end_result());
  // The caller's no_answer is the callee's timed_out.
  if (c.end_result == EndResult::kNoAnswer && c.direction == CallDirection::kIncoming) {
    c.end_result = EndResult::kTimedOut;
  }
  c.ended_by = info.ended_by();
  const absl::Time now = c.ended_at.value_or(absl::Now());
  ToProto(c, now, out);
  if (info.duration_ms() > 0) out->set_duration_ms(info.duration_ms());
}

callsd::v1::DeliverPushResponse::Outcome ToProto(CallRegistry::PushOutcome outcome) {
  switch (outcome) {
    case CallRegistry::PushOutcome::kRang: return callsd::v1::DeliverPushResponse::OUTCOME_RANG;
    case CallRegistry::PushOutcome::kDuplicate:
      return callsd::v1::DeliverPushResponse::OUTCOME_DUPLICATE;
    case CallRegistry::PushOutcome::kCallEnded:
      return callsd::v1::DeliverPushResponse::OUTCOME_CALL_ENDED;
    case CallRegistry::PushOutcome::kCanceled:
      return callsd::v1::DeliverPushResponse::OUTCOME_CANCELED;
    case CallRegistry::PushOutcome::kMissed: return callsd::v1::DeliverPushResponse::OUTCOME_MISSED;
  }
  return callsd::v1::DeliverPushResponse::OUTCOME_UNSPECIFIED;
}

absl::StatusOr<RoomType> FromProto(callsd::v1::RoomType type) {
  switch (type) {
    case callsd::v1::ROOM_TYPE_UNSPECIFIED:
    case callsd::v1::ROOM_TYPE_SMALL:
      return RoomType::kSmall;
    case callsd::v1::ROOM_TYPE_LARGE:
      return RoomType::kLarge;
    default:
      return InvalidField("type", absl::StrCat("must be ROOM_TYPE_SMALL or ROOM_TYPE_LARGE, got ",
                                               static_cast<int>(type)));
  }
}

callsd::v1::RoomType ToProto(RoomType type) {
  return type == RoomType::kLarge ? callsd::v1::ROOM_TYPE_LARGE : callsd::v1::ROOM_TYPE_SMALL;
}

void ToProto(const RoomParticipantRecord& p, callsd::v1::RoomParticipant* out) {
  out->mutable_user()->set_user_id(p.user_id);
  out->mutable_user()->set_nickname(p.nickname);
  out->set_muted(p.muted);
  if (p.entered_at) ToProto(*p.entered_at, out->mutable_entered_at());
}

void ToProto(const RoomRecord& room, callsd::v1::Room* out) {
  out->set_room_id(room.room_id);
  out->set_type(ToProto(room.type));
  out->set_owner_id(room.owner_id);
  out->set_max_participants(room.max_participants);
  for (const RoomParticipantRecord& p : room.participants) ToProto(p, out->add_participants());
  // RoomState's values are callsd.v1.RoomState's (kNone: UNSPECIFIED).
  out->set_state(static_cast<callsd::v1::RoomState>(static_cast<int>(room.state)));
  out->set_muted(room.muted);
}

void FillSessionState(const SessionSnapshot& s, callsd::v1::State* out) {
  out->set_app_id(s.app_id);
  out->set_session_state(ToProto(s.state));
  if (!s.user_id.empty()) {
    out->mutable_user()->set_user_id(s.user_id);
    out->mutable_user()->set_nickname(s.nickname);
  }
  if (s.token_kind) out->set_token_kind(ToProto(*s.token_kind));
  if (s.token_expires_at) ToProto(*s.token_expires_at, out->mutable_token_expires_at());
  if (!s.last_error.ok()) *out->mutable_last_error() = ToErrorInfo(s.last_error);
  if (s.next_retry_at) ToProto(*s.next_retry_at, out->mutable_next_retry_at());
}

namespace {

struct EventFiller {
  callsd::v1::Event* out;
  absl::Time now;

  void operator()(const CallChanged& e) const {
    callsd::v1::CallEvent* m = nullptr;
    switch (e.kind) {
      case CallChanged::Kind::kRinging: m = out->mutable_ringing(); break;
      case CallChanged::Kind::kDialing: m = out->mutable_dialing(); break;
      case CallChanged::Kind::kRemoteRinging: m = out->mutable_remote_ringing(); break;
      case CallChanged::Kind::kEstablished: m = out->mutable_established(); break;
      case CallChanged::Kind::kConnected: m = out->mutable_connected(); break;
      case CallChanged::Kind::kEnded: m = out->mutable_ended(); break;
      case CallChanged::Kind::kReconnecting: m = out->mutable_reconnecting(); break;
      case CallChanged::Kind::kReconnected: m = out->mutable_reconnected(); break;
      case CallChanged::Kind::kLocalAudioChanged: m = out->mutable_local_audio_changed(); break;
    }
    ToProto(e.call, now, m->mutable_call());
  }
  void operator()(const RemoteAudioChanged& e) const {
    auto* m = out->mutable_remote_audio_changed();
    ToProto(e.call, now, m->mutable_call());
    m->set_muted(e.muted);
  }
  void operator()(const PushForEndedCall& e) const {
    auto* m = out->mutable_push_for_ended_call();
    m->set_call_id(e.call_id);
    m->set_push_type(e.push_type);
    if (e.call) ToProto(*e.call, now, m->mutable_call());
  }

  void operator()(const RoomChanged& e) const {
    callsd::v1::RoomEvent* m = nullptr;
    switch (e.kind) {
      case RoomChanged::Kind::kEntered: m = out->mutable_room_entered(); break;
      case RoomChanged::Kind::kExited: m = out->mutable_room_exited(); break;
      case RoomChanged::Kind::kDeleted: m = out->mutable_room_deleted(); break;
      case RoomChanged::Kind::kReconnecting: m = out->mutable_room_reconnecting(); break;
      case RoomChanged::Kind::kReconnected: m = out->mutable_room_reconnected(); break;
      case RoomChanged::Kind::kLocalParticipantDisconnected:
        m = out->mutable_local_participant_disconnected();
        break;
    }
    ToProto(e.room, m->mutable_room());
    if (!e.reason.ok()) *m->mutable_reason() = ToErrorInfo(e.reason);
  }
  void operator()(const RoomParticipantChanged& e) const {
    callsd::v1::RoomParticipantEvent* m = nullptr;
    switch (e.kind) {
      case RoomParticipantChanged::Kind::kEntered: m = out->mutable_participant_entered(); break;
      case RoomParticipantChanged::Kind::kExited: m = out->mutable_participant_exited(); break;
      case RoomParticipantChanged::Kind::kAudioChanged:
        m = out->mutable_room_audio_changed();
        break;
    }
    ToProto(e.room, m->mutable_room());
    ToProto(e.participant, m->mutable_participant());
  }

  void operator()(const SessionStateChanged& e) const {
    auto* m = out->mutable_session_state_changed();
    m->set_state(ToProto(e.state));
    m->set_previous(ToProto(e.previous));
    if (!e.user_id.empty()) {
      m->mutable_user()->set_user_id(e.user_id);
      m->mutable_user()->set_nickname(e.nickname);
    }
    if (!e.reason.ok()) *m->mutable_reason() = ToErrorInfo(e.reason);
  }
  void operator()(const SessionTokenWillExpire& e) const {
    ToProto(e.expires_at, out->mutable_session_token_will_expire()->mutable_expires_at());
  }
  void operator()(const SessionTokenRequired& e) const {
    *out->mutable_session_token_required()->mutable_reason() = ToErrorInfo(e.reason);
  }
  void operator()(const PushTokensChanged& e) const {
    auto* m = out->mutable_push_tokens_changed();
    for (const StoredPushToken& t : e.tokens) ToProto(t, m->add_tokens());
  }
  void operator()(const AppChanged& e) const {
    out->mutable_app_changed()->set_app_id(e.app_id);
    out->mutable_app_changed()->set_previous_app_id(e.previous_app_id);
  }
};

}  // namespace

void FillEvent(const DomainEvent& event, absl::Time now, callsd::v1::Event* out) {
  std::visit(EventFiller{out, now}, event);
}

}  // namespace callsd::daemon::rpc
