#include "daemon/session/push_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "glog/logging.h"

namespace callsd::daemon {
namespace {

bool IsSessionRejection(const absl::Status& status) {
  const std::optional<int> code = GetCallsCode(status);
  return code && (*code == kCodeInvalidAccessToken || *code == kCodeSessionKeyExpired ||
                  *code == kCodeSessionTokenRevoked);
}

}  // namespace

PushRegistry::PushRegistry(Scheduler* engine, StateStore* store, Backend* backend,
                           ServerOpQueue* queue, EventSink* events, Options options)
    : engine_(engine),
      store_(store),
      backend_(backend),
      queue_(queue),
      events_(events),
      backoff_(options.retry_initial, options.retry_max) {}

absl::Status PushRegistry::Start() {
  auto tokens = store_->LoadPushTokens();
  if (!tokens.ok()) return tokens.status();
  tokens_ = *std::move(tokens);
  return absl::OkStatus();
}

void PushRegistry::Shutdown() {
  shut_down_ = true;
  engine_->Cancel(retry_timer_);
  retry_timer_ = 0;
}

StoredPushToken* PushRegistry::Find(PushType type, const std::string& token) {
  for (StoredPushToken& t : tokens_) {
    if (t.type == type && t.token == token) return &t;
  }
  return nullptr;
}

absl::Status PushRegistry::CheckLoggedIn() const {
  const SessionSnapshot& s = session_->snapshot();
  if (s.app_id.empty()) {
    return CallsError(absl::StatusCode::kFailedPrecondition, kCodeNotInitialized,
                      "callsd is not initialized with an APP_ID", {},
                      "run `callsctl init APP_ID` first");
  }
  if (s.user_id.empty()) {
    return CallsError(absl::StatusCode::kUnauthenticated, kCodeNotAuthenticated,
                      "nobody is logged in", {},
                      "log in first: callsctl login USER --token-file FILE");
  }
  return absl::OkStatus();
}

void PushRegistry::Save(const StoredPushToken& token) {
  if (absl::Status s = store_->SavePushToken(token); !s.ok()) {
    LOG(ERROR) << "cannot store a push token's state: " << s;
  }
}

void PushRegistry::Changed() { events_->Publish(PushTokensChanged{tokens_}); }

// --- Register -----------------------------------------------------------------

void PushRegistry::Register(PushType type, const std::string& token, bool unique,
                            Done<StoredPushToken> done) {
  if (shut_down_) return std::move(done)(absl::UnavailableError("callsd is shutting down"));
  if (absl::Status s = CheckLoggedIn(); !s.ok()) return std::move(done)(s);

  StoredPushToken updated;
  if (const StoredPushToken* existing = Find(type, token)) updated = *existing;
  updated.type = type;
  updated.token = token;
  updated.state = PushTokenState::kPending;
  updated.unique = unique;
  updated.error_code = 0;
  updated.error.clear();
  updated.updated_at = engine_->clock().Now();
  if (absl::Status s = store_->SavePushToken(updated); !s.ok()) {
    LOG(ERROR) << "cannot store a push token: " << s;
    return std::move(done)(absl::Status(
        absl::StatusCode::kInternal,
        absl::StrCat("could not store the push token in the state database: ", s.message())));
  }
  if (StoredPushToken* existing = Find(type, token)) {
    *existing = updated;
  } else {
    tokens_.push_back(updated);
  }
  confirmed_.erase(
      std::remove(confirmed_.begin(), confirmed_.end(),
                  std::make_pair(type, token)),
      confirmed_.end());
  LOG(INFO) << "push token (" << PushTypeName(type) << ") stored"
            << (unique ? ", unique" : "");
  Changed();

  if (!session_->credentials()) return std::move(done)(updated);
  if (!queue_->empty()) {
    // Older unregistrations go first, so that none of them undoes this
    // one; the caller is not kept waiting on them.
    queue_->WhenDrained([this, generation = generation_] {
      if (generation == generation_) RegisterAll();
    });
    return std::move(done)(updated);
  }
  Send(type, token, std::move(done));
}

void PushRegistry::Send(PushType type, const std::string& token, Done<StoredPushToken> done) {
  StoredPushToken* t = Find(type, token);
  const std::optional<SessionCredentials> creds = session_->credentials();
  if (t == nullptr || !creds || shut_down_) {
    if (done) {
      if (t != nullptr) {
        std::move(done)(*t);
      } else {
        std::move(done)(absl::AbortedError("the push token was unregistered meanwhile"));
      }
    }
    return;
  }
  backend_->RegisterPushToken(
      *creds, type, token, t->unique,
      [this, generation = generation_, type, token, done = std::move(done)](
          absl::Status status) mutable {
        OnSent(generation, type, std::move(token), std::move(status), std::move(done));
      });
}

void PushRegistry::OnSent(uint64_t generation, PushType type, std::string token,
                          absl::Status status, Done<StoredPushToken> done) {
  StoredPushToken* t = Find(type, token);
  if (shut_down_ || generation != generation_ || t == nullptr) {
    // The session changed (or the token went) while this was in flight.
    if (done) {
      if (t != nullptr && !shut_down_) {
        std::move(done)(*t);
      } else {
        std::move(done)(shut_down_ ? absl::UnavailableError("callsd is shutting down")
                                   : absl::AbortedError("the session or token changed meanwhile"));
      }
    }
    return;
  }
  t->updated_at = engine_->clock().Now();
  if (status.ok()) {
    t->state = PushTokenState::kRegistered;
    t->unique = false;  // done once; a re-registration must not evict newer devices
    t->error_code = 0;
    t->error.clear();
    confirmed_.emplace_back(type, token);
    backoff_.Reset();
    VLOG(1) << "push token (" << PushTypeName(type) << ") registered";
  } else if (status.code() == absl::StatusCode::kUnavailable || IsSessionRejection(status)) {
    // Kept and registered again later: after a retry delay, or after the
    // next authentication.
    t->state = PushTokenState::kPending;
    t->error_code = GetCallsCode(status).value_or(0);
    t->error = std::string(status.message());
    LOG(WARNING) << "push token (" << PushTypeName(type) << ") not registered yet: "
                 << status.message();
  } else {
    t->state = PushTokenState::kFailed;
    t->error_code = GetCallsCode(status).value_or(0);
    t->error = std::string(status.message());
    LOG(WARNING) << "the calls server refused a push token (" << PushTypeName(type)
                 << "): " << status.message();
  }
  const StoredPushToken result = *t;
  Save(result);
  Changed();
  if (IsSessionRejection(status)) {
    session_->OnSessionRejected(status);
  } else if (status.code() == absl::StatusCode::kUnavailable) {
    ScheduleRetry();
  }
  if (!done) return;
  if (result.state == PushTokenState::kFailed) {
    std::move(done)(status);
  } else {
    std::move(done)(result);
  }
}

void PushRegistry::RegisterAll() {
  if (shut_down_ || !session_->credentials()) return;
  std::vector<std::pair<PushType, std::string>> todo;
  for (const StoredPushToken& t : tokens_) {
    const auto key = std::make_pair(t.type, t.token);
    if (t.state == PushTokenState::kFailed) continue;
    if (std::find(confirmed_.begin(), confirmed_.end(), key) !=
        confirmed_.end()) {
      continue;
    }
    todo.push_back(key);
  }
  if (!todo.empty()) LOG(INFO) << "registering " << todo.size() << " push token(s)";
  for (auto& [type, token] : todo) Send(type, token, nullptr);
}

void PushRegistry::ScheduleRetry() {
  if (retry_timer_ != 0 || shut_down_) return;
  const absl::Duration delay = backoff_.Next();
  retry_timer_ = engine_->RunAfter(delay, [this] {
    retry_timer_ = 0;
    RegisterAll();
  });
}

// --- Unregister -------------------------------------------------------------------

void PushRegistry::Unregister(PushType type, const std::string& token, Done<bool> done) {
  Remove(type, token, PendingOp::Kind::kUnregisterPush, std::move(done));
}

void PushRegistry::UnregisterAll(PushType type, Done<bool> done) {
  Remove(type, "", PendingOp::Kind::kUnregisterAllPush, std::move(done));
}

void PushRegistry::Remove(PushType type, const std::string& token, PendingOp::Kind kind,
                          Done<bool> done) {
  if (shut_down_) return std::move(done)(absl::UnavailableError("callsd is shutting down"));
  if (session_->snapshot().app_id.empty()) {
    return std::move(done)(CallsError(absl::StatusCode::kFailedPrecondition, kCodeNotInitialized,
                                      "callsd is not initialized with an APP_ID", {},
                                      "run `callsctl init APP_ID` first"));
  }
  std::vector<PendingOp> ops;
  const std::optional<SessionCredentials> creds = session_->stored_credentials();
  if (creds && !creds->session_key.empty()) {
    PendingOp op;
    op.kind = kind;
    op.creds = *creds;
    op.type = type;
    op.token = token;
    op.created_at = engine_->clock().Now();
    ops.push_back(std::move(op));
  }
  if (absl::Status s = store_->RemovePushTokens(type, token, &ops); !s.ok()) {
    LOG(ERROR) << "cannot remove push tokens: " << s;
    return std::move(done)(absl::Status(
        absl::StatusCode::kInternal,
        absl::StrCat("could not remove the push token from the state database: ", s.message())));
  }
  auto gone = [&](const StoredPushToken& t) {
    return t.type == type && (token.empty() || t.token == token);
  };
  tokens_.erase(std::remove_if(tokens_.begin(), tokens_.end(), gone), tokens_.end());
  confirmed_.erase(
      std::remove_if(confirmed_.begin(), confirmed_.end(),
                     [&](const auto& key) {
                       return key.first == type && (token.empty() || key.second == token);
                     }),
      confirmed_.end());
  LOG(INFO) << (token.empty() ? "all push tokens" : "a push token") << " ("
            << PushTypeName(type) << ") removed"
            << (ops.empty() ? " (nobody logged in: nothing to tell the server)" : "");
  Changed();
  if (ops.empty()) return std::move(done)(false);
  queue_->Execute(std::move(ops), [done = std::move(done)](bool confirmed, int) mutable {
    std::move(done)(confirmed);
  });
}

// --- Session life -----------------------------------------------------------------

void PushRegistry::OnAuthenticated(const SessionCredentials& creds) {
  // Registrations of the same user stay good across a token refresh: only
  // what is not confirmed yet is sent.
  ++generation_;
  engine_->Cancel(retry_timer_);
  retry_timer_ = 0;
  backoff_.Reset();
  // The server is reachable: queued clean-up goes first, then registrations.
  queue_->RetryNow();
  queue_->WhenDrained([this, generation = generation_] {
    if (generation == generation_) RegisterAll();
  });
}

void PushRegistry::OnSessionSuspended(const absl::Status& reason) {
  engine_->Cancel(retry_timer_);
  retry_timer_ = 0;
}

void PushRegistry::OnSessionEnded(bool app_changed) {
  ++generation_;
  confirmed_.clear();
  engine_->Cancel(retry_timer_);
  retry_timer_ = 0;
  if (app_changed) {
    // The store was wiped with the old app: tokens and queued work go.
    tokens_.clear();
    queue_->Clear();
  } else {
    // Kept as this device's tokens, registered again at the next login
    // (the store marked them pending in the logout's transaction).
    for (StoredPushToken& t : tokens_) {
      t.state = PushTokenState::kPending;
      t.error_code = 0;
      t.error.clear();
    }
  }
  Changed();
}

std::vector<PendingOp> PushRegistry::PlanEnd(const SessionCredentials& old,
                                             bool keep_push_tokens) {
  std::vector<PendingOp> ops;
  if (old.session_key.empty()) return ops;
  const absl::Time now = engine_->clock().Now();
  if (!keep_push_tokens) {
    for (const StoredPushToken& t : tokens_) {
      if (t.state == PushTokenState::kFailed) continue;
      PendingOp op;
      op.kind = PendingOp::Kind::kUnregisterPush;
      op.creds = old;
      op.type = t.type;
      op.token = t.token;
      op.created_at = now;
      ops.push_back(std::move(op));
    }
  }
  PendingOp end;
  end.kind = PendingOp::Kind::kEndSession;
  end.creds = old;
  end.created_at = now;
  ops.push_back(std::move(end));
  return ops;
}

void PushRegistry::Execute(std::vector<PendingOp> ops,
                           absl::AnyInvocable<void(bool, int) &&> done) {
  queue_->Execute(std::move(ops), std::move(done));
}

}  // namespace callsd::daemon
