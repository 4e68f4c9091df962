#include "daemon/backend/backend.h"

namespace callsd::daemon {

const char* PushTypeName(PushType type) {
  switch (type) {
    case PushType::kVoip:
      return "voip";
    case PushType::kRemote:
      return "remote";
  }
  return "voip";  // not reached: every enumerator is handled above
}

}  // namespace callsd::daemon
