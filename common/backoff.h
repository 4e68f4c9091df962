// Capped exponential backoff with jitter, for retries of server requests.
#ifndef CALLSD_COMMON_BACKOFF_H_
#define CALLSD_COMMON_BACKOFF_H_

#include <cstdint>

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace callsd {

class Backoff {
 public:
  // Delays grow initial, 2*initial, 4*initial ... up to `max`, each with up
  // to `jitter` (0..1) of itself added or taken away at random.
  Backoff(absl::Duration initial, absl::Duration max, double jitter = 0.2)
      : initial_(initial), max_(max), jitter_(jitter) {}

  // The delay before the next attempt; advances the sequence.
  absl::Duration Next();
  // Back to `initial` (after a success).
  void Reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  double jitter_;
  int attempts_ = 0;
  absl::BitGen gen_;
};

}  // namespace callsd

#endif  // CALLSD_COMMON_BACKOFF_H_
