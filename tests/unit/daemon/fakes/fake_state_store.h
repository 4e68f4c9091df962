// FakeStateStore: the StateStore in memory, with injectable write failures.
#ifndef CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_STATE_STORE_H_
#define CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_STATE_STORE_H_

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
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<StoredSession>> LoadSession() override { return session; }
  absl::Status SaveSession(const StoredSession& s) override {
    if (!fail_writes.ok()) return fail_writes;
    session = s;
    ++session_writes;
    return absl::OkStatus();
  }
  absl::Status ClearSession() override {
    if (!fail_writes.ok()) return fail_writes;
    session.reset();
    return absl::OkStatus();
  }

  std::optional<std::string> app_id;
  std::optional<StoredSession> session;
  absl::Status fail_writes;
  int resets = 0;
  int session_writes = 0;
};

}  // namespace callsd::daemon::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_STATE_STORE_H_
