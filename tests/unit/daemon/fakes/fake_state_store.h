// FakeStateStore: the StateStore in memory, with injectable write failures.
#ifndef CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_STATE_STORE_H_
#define CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_STATE_STORE_H_

#include <algorithm>
#include <map>

#include "daemon/store/state_store.h"

namespace callsd::daemon::testing {

class FakeStateStore final : public StateStore {
 public:
  absl::StatusOr<std::optional<std::string>> LoadAppId() override { return app_id; }
  absl::Status ResetApp(const std::string& id) override {
    if (!fail_writes.ok()) return fail_writes;
    if (app_id && *app_id == id) return absl::OkStatus();
    ++resets;
    app_id = id;
    session.reset();
    push_tokens.clear();
    ops.clear();
    calls.clear();
    call_log.clear();
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<StoredSession>> LoadSession() override { return session; }
  absl::Status SaveSession(const StoredSession& s) override {
    if (!fail_writes.ok()) return fail_writes;
    session = s;
    ++session_writes;
    return absl::OkStatus();
  }
  absl::Status ClearSession(std::vector<PendingOp>* ops) override {
    if (!fail_writes.ok()) return fail_writes;
    session.reset();
    for (StoredPushToken& t : push_tokens) {
      t.state = PushTokenState::kPending;
      t.error_code = 0;
      t.error.clear();
    }
    AddOps(ops);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<StoredPushToken>> LoadPushTokens() override { return push_tokens; }
  absl::Status SavePushToken(const StoredPushToken& token) override {
    if (!fail_writes.ok()) return fail_writes;
    for (StoredPushToken& t : push_tokens) {
      if (t.type == token.type && t.token == token.token) {
        t = token;
        return absl::OkStatus();
      }
    }
    push_tokens.push_back(token);
    return absl::OkStatus();
  }
  absl::Status RemovePushTokens(PushType type, const std::string& token,
                                std::vector<PendingOp>* ops) override {
    if (!fail_writes.ok()) return fail_writes;
    std::erase_if(push_tokens, [&](const StoredPushToken& t) {
      return t.type == type && (token.empty() || t.token == token);
    });
    AddOps(ops);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<PendingOp>> LoadPendingOps() override { return ops; }
  absl::Status UpdatePendingOp(const PendingOp& op) override {
    for (PendingOp& o : ops) {
      if (o.id == op.id) o = op;
    }
    return absl::OkStatus();
  }
  absl::Status DeletePendingOp(int64_t id) override {
    std::erase_if(ops, [&](const PendingOp& o) { return o.id == id; });
    return absl::OkStatus();
  }

  absl::Status SaveCall(const CallRecord& call) override {
    if (!fail_writes.ok()) return fail_writes;
    calls[call.call_id] = call;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<CallRecord>> LoadCalls() override {
    std::vector<CallRecord> out;
    for (const auto& [id, c] : calls) out.push_back(c);
    return out;
  }
  absl::Status DeleteCallsEndedBefore(absl::Time before) override {
    std::erase_if(calls, [&](const auto& kv) {
      return kv.second.ended() && kv.second.ended_at && *kv.second.ended_at < before;
    });
    return absl::OkStatus();
  }
  absl::Status SaveCallLog(const std::vector<wire::v1::CallInfo>& infos) override {
    for (const auto& info : infos) call_log[info.call_id()] = info;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<wire::v1::CallInfo>> LoadCallLog(int limit) override {
    std::vector<wire::v1::CallInfo> out;
    for (const auto& [id, info] : call_log) out.push_back(info);
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.created_at() > b.created_at(); });
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }

  void AddOps(std::vector<PendingOp>* added) {
    for (PendingOp& op : *added) {
      op.id = next_op_id++;
      ops.push_back(op);
    }
  }

  std::optional<std::string> app_id;
  std::optional<StoredSession> session;
  std::vector<StoredPushToken> push_tokens;
  std::vector<PendingOp> ops;
  std::map<std::string, CallRecord> calls;
  std::map<std::string, wire::v1::CallInfo> call_log;
  int64_t next_op_id = 1;
  absl::Status fail_writes;
  int resets = 0;
  int session_writes = 0;
};

}  // namespace callsd::daemon::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_STATE_STORE_H_
