// Early-return helpers for absl::Status / absl::StatusOr (no exceptions).
#ifndef CALLSD_COMMON_STATUS_MACROS_H_
#define CALLSD_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CALLSD_CONCAT_INNER_(a, b) a##b
#define CALLSD_CONCAT_(a, b) CALLSD_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status _callsd_status = (expr);          \
    if (!_callsd_status.ok()) return _callsd_status; \
  } while (0)

// `lhs = value of rexpr`, or returns its status when it is not OK.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL_(CALLSD_CONCAT_(_callsd_statusor_, __LINE__), lhs, rexpr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (!statusor.ok()) return statusor.status();      \
  lhs = std::move(statusor).value()

#endif  // CALLSD_COMMON_STATUS_MACROS_H_
