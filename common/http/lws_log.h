// libwebsockets' own log lines, routed to glog.
#ifndef CALLSD_COMMON_HTTP_LWS_LOG_H_
#define CALLSD_COMMON_HTTP_LWS_LOG_H_

namespace callsd {

// Process-wide (lws has one log configuration per process) and idempotent;
// thread-safe. Keeps lws errors (as LOG(WARNING), prefixed "lws: ") and
// warnings (as VLOG(1)); drops lws notices and debug output, which can echo
// URLs. Every LwsHttpClient calls it; servers using lws directly may too.
void RouteLwsLogsToGlog();

}  // namespace callsd

#endif  // CALLSD_COMMON_HTTP_LWS_LOG_H_
