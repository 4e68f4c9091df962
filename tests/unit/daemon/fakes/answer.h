// Answer<T>: captures the one answer of an asynchronous domain call.
#ifndef CALLSD_TESTS_UNIT_DAEMON_FAKES_ANSWER_H_
#define CALLSD_TESTS_UNIT_DAEMON_FAKES_ANSWER_H_

#include <optional>
#include <utility>

#include "absl/status/statusor.h"

namespace callsd::daemon::testing {

template <typename T>
struct Answer {
  std::optional<absl::StatusOr<T>> value;
  auto Callback() {
    return [this](absl::StatusOr<T> v) { value = std::move(v); };
  }
  bool ready() const { return value.has_value(); }
  const absl::StatusOr<T>& get() const { return *value; }
};

}  // namespace callsd::daemon::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_FAKES_ANSWER_H_
