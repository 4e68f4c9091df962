// RecordingEventSink: keeps every published event for assertions.
#ifndef CALLSD_TESTS_UNIT_DAEMON_FAKES_RECORDING_EVENT_SINK_H_
#define CALLSD_TESTS_UNIT_DAEMON_FAKES_RECORDING_EVENT_SINK_H_

#include <vector>

#include "daemon/events/events.h"

namespace callsd::daemon::testing {

class RecordingEventSink final : public EventSink {
 public:
  void Publish(DomainEvent event) override { events.push_back(std::move(event)); }
  void StateChanged() override { ++state_changes; }

  template <typename T>
  std::vector<T> Of() const {
    std::vector<T> out;
    for (const DomainEvent& e : events) {
      if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
    }
    return out;
  }
  // The states of every SessionStateChanged, in order.
  std::vector<SessionState> States() const {
    std::vector<SessionState> out;
    for (const auto& e : Of<SessionStateChanged>()) out.push_back(e.state);
    return out;
  }

  std::vector<DomainEvent> events;
  int state_changes = 0;
};

}  // namespace callsd::daemon::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_FAKES_RECORDING_EVENT_SINK_H_
