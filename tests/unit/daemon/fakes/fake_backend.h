// FakeBackend: records every request; the test answers each one explicitly.
// Answers are posted to the scheduler, as the Backend contract requires.
#ifndef CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_BACKEND_H_
#define CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_BACKEND_H_

#include <deque>
#include <string>
#include <utility>

#include "common/scheduler.h"
#include "daemon/backend/backend.h"
#include "gtest/gtest.h"

namespace callsd::daemon::testing {

class FakeBackend final : public Backend {
 public:
  struct AuthCall {
    std::string app_id, user_id, token;
    Callback<AuthResult> done;
  };
  struct Call {
    std::string what;  // "end_session", "register", "unregister", "unregister_all"
    SessionCredentials creds;
    PushType type = PushType::kVoip;
    std::string token;
    bool unique = false;
    StatusCallback done;
  };

  struct RoomCall {
    std::string what;  // "create_room" (arg: the type), "get_room" (arg: the room id)
    std::string arg;
    Callback<wire::v1::RoomInfo> done;
  };

  explicit FakeBackend(Scheduler* scheduler) : scheduler_(scheduler) {}

  void Authenticate(const std::string& app_id, const std::string& user_id,
                    const std::string& token, Callback<AuthResult> done) override {
    auth_calls.push_back({app_id, user_id, token, std::move(done)});
  }
  void EndSession(const SessionCredentials& creds, StatusCallback done) override {
    calls.push_back({"end_session", creds, PushType::kVoip, "", false, std::move(done)});
  }
  void RegisterPushToken(const SessionCredentials& creds, PushType type, const std::string& token,
                         bool unique, StatusCallback done) override {
    calls.push_back({"register", creds, type, token, unique, std::move(done)});
  }
  void UnregisterPushToken(const SessionCredentials& creds, PushType type,
                           const std::string& token, StatusCallback done) override {
    calls.push_back({"unregister", creds, type, token, false, std::move(done)});
  }
  void UnregisterAllPushTokens(const SessionCredentials& creds, PushType type,
                               StatusCallback done) override {
    calls.push_back({"unregister_all", creds, type, "", false, std::move(done)});
  }

  void ListRingingCalls(const SessionCredentials& creds,
                        Callback<std::vector<wire::v1::CallInfo>> done) override {
    ringing_calls.push_back(std::move(done));
  }
  void DeclineCall(const SessionCredentials& creds, const std::string& call_id,
                   StatusCallback done) override {
    calls.push_back({"decline", creds, PushType::kVoip, call_id, false, std::move(done)});
  }
  void ListCallLogs(const SessionCredentials& creds, int limit, const std::string& next,
                    Callback<wire::v1::CallList> done) override {
    call_logs.push_back(std::move(done));
  }

  void CreateRoom(const SessionCredentials& creds, const std::string& type,
                  Callback<wire::v1::RoomInfo> done) override {
    room_calls.push_back({"create_room", type, std::move(done)});
  }
  void GetRoom(const SessionCredentials& creds, const std::string& room_id,
               Callback<wire::v1::RoomInfo> done) override {
    room_calls.push_back({"get_room", room_id, std::move(done)});
  }

  // Answers the oldest pending room request (create or get).
  void AnswerRoom(absl::StatusOr<wire::v1::RoomInfo> result) {
    ASSERT_FALSE(room_calls.empty()) << "no room request is pending";
    RoomCall call = std::move(room_calls.front());
    room_calls.pop_front();
    scheduler_->Post([done = std::move(call.done), result = std::move(result)]() mutable {
      std::move(done)(std::move(result));
    });
  }

  // Answers the oldest pending authentication.
  void AnswerAuth(absl::StatusOr<AuthResult> result) {
    ASSERT_FALSE(auth_calls.empty()) << "no authentication is pending";
    AuthCall call = std::move(auth_calls.front());
    auth_calls.pop_front();
    scheduler_->Post([done = std::move(call.done), result = std::move(result)]() mutable {
      std::move(done)(std::move(result));
    });
  }
  // Answers the oldest pending other call.
  void Answer(absl::Status status) {
    ASSERT_FALSE(calls.empty()) << "no request is pending";
    Call call = std::move(calls.front());
    calls.pop_front();
    scheduler_->Post([done = std::move(call.done), status]() mutable {
      std::move(done)(status);
    });
  }

  static AuthResult Ok(const std::string& user, std::optional<absl::Time> expires = {}) {
    AuthResult r;
    r.session_key = "sk-" + user;
    r.user_id = user;
    r.nickname = "Nick " + user;
    r.push_key = "pk";
    r.expires_at = expires;
    return r;
  }

  std::deque<AuthCall> auth_calls;
  std::deque<Call> calls;
  std::deque<Callback<std::vector<wire::v1::CallInfo>>> ringing_calls;
  std::deque<Callback<wire::v1::CallList>> call_logs;
  std::deque<RoomCall> room_calls;

 private:
  Scheduler* const scheduler_;
};

}  // namespace callsd::daemon::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_BACKEND_H_
