#include "common/backoff.h"

#include <algorithm>

namespace callsd {

absl::Duration Backoff::Next() {
  absl::Duration delay = initial_;
  for (int i = 0; i < attempts_ && delay < max_; ++i) delay *= 2;
  delay = std::min(delay, max_);
  ++attempts_;
  if (jitter_ > 0) {
    const double factor = absl::Uniform(gen_, 1.0 - jitter_, 1.0 + jitter_);
    delay = std::min(delay * factor, max_);
  }
  return delay;
}

}  // namespace callsd
