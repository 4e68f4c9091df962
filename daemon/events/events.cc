#include "daemon/events/events.h"

namespace callsd::daemon {

const char* SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kNotInitialized: return "NOT_INITIALIZED";
    case SessionState::kLoggedOut: return "LOGGED_OUT";
    case SessionState::kAuthenticating: return "AUTHENTICATING";
    case SessionState::kAuthenticated: return "AUTHENTICATED";
    case SessionState::kTokenRequired: return "TOKEN_REQUIRED";
  }
  return "UNKNOWN";
}

}  // namespace callsd::daemon
