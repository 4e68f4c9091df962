// FakeCallChannel: records what the daemon opens, sends and closes; the
// test plays the server by calling the listener (posted to the scheduler,
// as the CallChannel contract requires).
#ifndef CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_CALL_CHANNEL_H_
#define CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_CALL_CHANNEL_H_

#include <string>
#include <vector>

#include "common/scheduler.h"
#include "daemon/backend/call_channel.h"

namespace callsd::daemon::testing {

class FakeCallChannel final : public CallChannel {
 public:
  explicit FakeCallChannel(Scheduler* scheduler) : scheduler_(scheduler) {}

  void Open(const SessionCredentials& creds, Listener* listener) override {
    if (active_) return;
    active_ = true;
    open_ = false;
    listener_ = listener;
    ++opens;
    last_creds = creds;
  }
  void Send(const wire::v1::WsMessage& message) override {
    if (!active_) {
      ++dropped;
      return;
    }
    sent.push_back(message);
  }
  void Close() override {
    if (active_) ++closes;
    active_ = false;
    open_ = false;
    ++generation_;
  }
  bool active() const override { return active_; }

  // The server side.
  void ServerAcceptsConnection() {
    open_ = true;
    Post([](Listener* l) { l->OnChannelOpen(); });
  }
  void ServerSends(wire::v1::WsMessage message) {
    Post([message](Listener* l) { l->OnChannelMessage(message); });
  }
  void ServerDrops(absl::Status why = absl::UnavailableError("connection reset")) {
    active_ = false;
    open_ = false;
    Post([why](Listener* l) { l->OnChannelClosed(why); });
  }
  // The last message sent of `type`, or nullptr.
  const wire::v1::WsMessage* Last(const std::string& type) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->type() == type) return &*it;
    }
    return nullptr;
  }
  bool open() const { return open_; }

  std::vector<wire::v1::WsMessage> sent;
  int opens = 0;
  int closes = 0;
  int dropped = 0;
  SessionCredentials last_creds;

 private:
  template <typename F>
  void Post(F f) {
    // Callbacks of a connection closed meanwhile never arrive.
    scheduler_->Post([this, f, generation = generation_] {
      if (generation == generation_ && listener_ != nullptr) f(listener_);
    });
  }

  Scheduler* const scheduler_;
  Listener* listener_ = nullptr;
  bool active_ = false;
  bool open_ = false;
  uint64_t generation_ = 0;
};

}  // namespace callsd::daemon::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_FAKES_FAKE_CALL_CHANNEL_H_
