// Fakes around the CallRouter: a ConnectionSender that records what each
// connection was sent, a Pusher that records jobs and lets the test say
// when one was delivered, and an HttpClient that the test answers by hand.
// All thread-safe (the transport test uses them from the lws thread).
#ifndef CALLSD_TESTS_UNIT_SERVER_CALL_FAKES_H_
#define CALLSD_TESTS_UNIT_SERVER_CALL_FAKES_H_

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto.h"
#include "common/http/http_client.h"
#include "common/wire_json.h"
#include "gtest/gtest.h"
#include "server/calls/call_router.h"
#include "server/store/store.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server::testing {

class FakeSender final : public ConnectionSender {
 public:
  void Send(ConnId conn, const wire::v1::WsMessage& message) override {
    absl::MutexLock lock(&mu_);
    queues_[conn].push_back(message);
  }

  // The oldest message to `conn` not taken yet; a message of type "none"
  // when there is none.
  wire::v1::WsMessage Next(ConnId conn) {
    absl::MutexLock lock(&mu_);
    std::deque<wire::v1::WsMessage>& q = queues_[conn];
    if (q.empty()) {
      wire::v1::WsMessage none;
      none.set_type("none");
      return none;
    }
    wire::v1::WsMessage m = std::move(q.front());
    q.pop_front();
    return m;
  }
  // The types of every message to `conn` not taken yet (and takes them).
  std::vector<std::string> TakeTypes(ConnId conn) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> types;
    for (const auto& m : queues_[conn]) types.push_back(m.type());
    queues_[conn].clear();
    return types;
  }
  size_t pending(ConnId conn) {
    absl::MutexLock lock(&mu_);
    return queues_[conn].size();
  }

 private:
  absl::Mutex mu_;
  std::map<ConnId, std::deque<wire::v1::WsMessage>> queues_ ABSL_GUARDED_BY(mu_);
};

class FakePusher final : public Pusher {
 public:
  void Push(PushJob job, absl::AnyInvocable<void() &&> on_delivered) override {
    absl::MutexLock lock(&mu_);
    jobs_.push_back(job);
    callbacks_.push_back(std::move(on_delivered));
  }

  std::vector<PushJob> jobs() {
    absl::MutexLock lock(&mu_);
    return jobs_;
  }
  // "type token_type end_result" of every job, and forgets them.
  std::vector<std::string> TakeSummary() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const PushJob& job : jobs_) {
      out.push_back(job.type + " " + PushTypeName(job.token_type) +
                    (job.end_result.empty() ? "" : " " + job.end_result));
    }
    jobs_.clear();
    callbacks_.clear();
    return out;
  }
  // Runs job i's on_delivered (as the real sender would, on the router's
  // sequence: call it from the test's thread with a simulated scheduler).
  void Deliver(size_t i) {
    absl::AnyInvocable<void() &&> done;
    {
      absl::MutexLock lock(&mu_);
      done = std::move(callbacks_.at(i));
    }
    if (done) std::move(done)();
  }

 private:
  absl::Mutex mu_;
  std::vector<PushJob> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::AnyInvocable<void() &&>> callbacks_ ABSL_GUARDED_BY(mu_);
};

class FakeHttpClient final : public ::callsd::HttpClient {
 public:
  void Send(::callsd::HttpRequest request, Callback done) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back({std::move(request), std::move(done)});
  }
  size_t sent() {
    absl::MutexLock lock(&mu_);
    return sent_.size();
  }
  ::callsd::HttpRequest request(size_t i) {
    absl::MutexLock lock(&mu_);
    return sent_.at(i).request;
  }
  // Completes request `i` (once), on the calling thread, as the client's
  // own thread would.
  void Answer(size_t i, absl::StatusOr<::callsd::HttpResponse> result) {
    Callback done;
    {
      absl::MutexLock lock(&mu_);
      done = std::move(sent_.at(i).done);
    }
    ASSERT_TRUE(done) << "request " << i << " answered twice";
    std::move(done)(std::move(result));
  }
  void Reply(size_t i, int status) {
    ::callsd::HttpResponse response;
    response.status = status;
    Answer(i, std::move(response));
  }

 private:
  struct Sent {
    ::callsd::HttpRequest request;
    Callback done;
  };
  absl::Mutex mu_;
  std::deque<Sent> sent_ ABSL_GUARDED_BY(mu_);
};

// The value of header `name`, "" if absent.
inline std::string HeaderOf(const ::callsd::HttpRequest& request, const std::string& name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name) return v;
  }
  return std::string();
}

// A user of `app` in `store`; `authenticated`: with the session key
// "key-<id>" (so that Open() below can connect it).
inline UserRecord NewTestUser(Store* store, const std::string& app, const std::string& id,
                              const std::string& nickname, int64_t now_ms,
                              bool authenticated = true) {
  auto user = store->CreateUser(app, id, nickname, RandomBytes(32), "", now_ms);
  EXPECT_TRUE(user.ok()) << user.status();
  if (authenticated) {
    EXPECT_TRUE(
        store->AddSessionKey(Sha256Hex("key-" + id), user->rowid, std::nullopt, 0, now_ms).ok());
  }
  return *store->GetUser(app, id);
}

// Opens `conn` on `router` for `user` with session key `session`
// ("key-<user_id>" by default) and takes the hello from `sender`.
inline void OpenTestConnection(CallRouter* router, FakeSender* sender, ConnId conn,
                               const UserRecord& user, const std::string& session = "") {
  ConnectionInfo who;
  who.app_id = user.app_id;
  who.user_rowid = user.rowid;
  who.user_id = user.user_id;
  who.nickname = user.nickname;
  who.session_hash = Sha256Hex(session.empty() ? "key-" + user.user_id : session);
  router->OnOpen(conn, who);
  wire::v1::WsMessage hello = sender->Next(conn);
  EXPECT_EQ(hello.type(), "hello");
  EXPECT_EQ(hello.user_id(), user.user_id);
}

}  // namespace callsd::server::testing

#endif  // CALLSD_TESTS_UNIT_SERVER_CALL_FAKES_H_
