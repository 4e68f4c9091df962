// Store: direct calls.
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/store/store.h"

namespace callsd::server {
namespace {

constexpr absl::string_view kCallColumns =
    "id, call_id, app_id, caller_rowid, caller_id, caller_nickname, callee_rowid, callee_id, "
    "callee_nickname, video, state, created_at, established_at, connected_at, ended_at, "
    "end_result, duration_ms, ended_by, caller_session, caller_conn, callee_session, "
    "callee_conn";

CallRecord ReadCall(const Statement& stmt) {
  CallRecord call;
  call.rowid = stmt.ColumnInt(0);
  call.call_id = stmt.ColumnText(1);
  call.app_id = stmt.ColumnText(2);
  call.caller_rowid = stmt.ColumnInt(3);
  call.caller_id = stmt.ColumnText(4);
  call.caller_nickname = stmt.ColumnText(5);
  call.callee_rowid = stmt.ColumnInt(6);
  call.callee_id = stmt.ColumnText(7);
  call.callee_nickname = stmt.ColumnText(8);
  call.video = stmt.ColumnInt(9) != 0;
  call.state = stmt.ColumnText(10);
  call.created_at_ms = stmt.ColumnInt(11);
  call.established_at_ms = stmt.ColumnInt(12);
  call.connected_at_ms = stmt.ColumnInt(13);
  call.ended_at_ms = stmt.ColumnInt(14);
  call.end_result = stmt.ColumnText(15);
  call.duration_ms = stmt.ColumnInt(16);
  call.ended_by = stmt.ColumnText(17);
  call.caller_session = stmt.ColumnText(18);
  call.caller_conn = static_cast<uint64_t>(stmt.ColumnInt(19));
  call.callee_session = stmt.ColumnText(20);
  call.callee_conn = static_cast<uint64_t>(stmt.ColumnInt(21));
  return call;
}

absl::StatusOr<std::vector<CallRecord>> ReadCalls(Statement& stmt) {
  std::vector<CallRecord> calls;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    calls.push_back(ReadCall(stmt));
  }
  return calls;
}

}  // namespace

absl::StatusOr<int64_t> Store::InsertCall(const CallRecord& call) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(db_->WithoutFsync([&]() -> absl::Status {
    ASSIGN_OR_RETURN(
        Statement stmt,
        db_->Prepare("INSERT INTO calls (call_id, app_id, caller_rowid, caller_id, "
                     "caller_nickname, callee_rowid, callee_id, callee_nickname, video, state, "
                     "created_at, established_at, connected_at, ended_at, end_result, duration_ms, "
                     "ended_by, caller_session, caller_conn, callee_session, callee_conn) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    stmt.Bind(1, call.call_id).Bind(2, call.app_id).Bind(3, call.caller_rowid);
    stmt.Bind(4, call.caller_id).Bind(5, call.caller_nickname).Bind(6, call.callee_rowid);
    stmt.Bind(7, call.callee_id).Bind(8, call.callee_nickname);
    stmt.Bind(9, int64_t{call.video ? 1 : 0}).Bind(10, call.state).Bind(11, call.created_at_ms);
    stmt.Bind(12, call.established_at_ms).Bind(13, call.connected_at_ms);
    stmt.Bind(14, call.ended_at_ms).Bind(15, call.end_result).Bind(16, call.duration_ms);
    stmt.Bind(17, call.ended_by).Bind(18, call.caller_session);
    stmt.Bind(19, static_cast<int64_t>(call.caller_conn)).Bind(20, call.callee_session);
    stmt.Bind(21, static_cast<int64_t>(call.callee_conn));
    absl::Status status = stmt.Run();
    if (absl::IsAlreadyExists(status)) {
      status = absl::AlreadyExistsError(absl::StrCat("call ", call.call_id, " already exists"));
    }
    return status;
  }));
  return db_->LastInsertRowId();
}

absl::Status Store::UpdateCall(const CallRecord& call) {
  absl::MutexLock lock(&mu_);
  // A live call's state: WAL keeps it through a crash of the server; an
  // fsync per state change would delay every call message.
  return db_->WithoutFsync([&]() -> absl::Status {
    ASSIGN_OR_RETURN(
        Statement stmt,
        db_->Prepare("UPDATE calls SET caller_nickname = ?, callee_nickname = ?, video = ?, "
                     "state = ?, created_at = ?, established_at = ?, connected_at = ?, "
                     "ended_at = ?, end_result = ?, duration_ms = ?, ended_by = ?, "
                     "caller_session = ?, caller_conn = ?, callee_session = ?, callee_conn = ? "
                     "WHERE call_id = ?"));
    stmt.Bind(1, call.caller_nickname).Bind(2, call.callee_nickname);
    stmt.Bind(3, int64_t{call.video ? 1 : 0}).Bind(4, call.state).Bind(5, call.created_at_ms);
    stmt.Bind(6, call.established_at_ms).Bind(7, call.connected_at_ms).Bind(8, call.ended_at_ms);
    stmt.Bind(9, call.end_result).Bind(10, call.duration_ms).Bind(11, call.ended_by);
    stmt.Bind(12, call.caller_session).Bind(13, static_cast<int64_t>(call.caller_conn));
    stmt.Bind(14, call.callee_session).Bind(15, static_cast<int64_t>(call.callee_conn));
    stmt.Bind(16, call.call_id);
    RETURN_IF_ERROR(stmt.Run());
    if (db_->Changes() == 0) {
      return absl::NotFoundError(absl::StrCat("call ", call.call_id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<CallRecord> Store::GetCall(absl::string_view call_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(absl::StrCat("SELECT ", kCallColumns,
                                                             " FROM calls WHERE call_id = ?")));
  stmt.Bind(1, call_id);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("call ", call_id, " not found"));
  return ReadCall(stmt);
}

absl::StatusOr<std::vector<CallRecord>> Store::ListUnendedCalls() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare(absl::StrCat("SELECT ", kCallColumns,
                                             " FROM calls WHERE state != 'ended' ORDER BY id")));
  return ReadCalls(stmt);
}

absl::StatusOr<std::vector<CallRecord>> Store::ListRingingCalls(int64_t callee_rowid) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare(absl::StrCat("SELECT ", kCallColumns,
                                             " FROM calls WHERE callee_rowid = ? AND "
                                             "state = 'ringing' ORDER BY id")));
  stmt.Bind(1, callee_rowid);
  return ReadCalls(stmt);
}

absl::StatusOr<CallPage> Store::ListCalls(int64_t user_rowid, int limit, int64_t before_rowid) {
  if (limit < 1) return absl::InvalidArgumentError("limit must be at least 1");
  absl::MutexLock lock(&mu_);
  // One more than asked tells whether there is a next page.
  ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(absl::StrCat(
                                       "SELECT ", kCallColumns,
                                       " FROM calls WHERE (caller_rowid = ?1 OR callee_rowid = ?1) "
                                       "AND id < ?2 ORDER BY id DESC LIMIT ?3")));
  stmt.Bind(1, user_rowid);
  stmt.Bind(2, before_rowid > 0 ? before_rowid : std::numeric_limits<int64_t>::max());
  stmt.Bind(3, static_cast<int64_t>(limit) + 1);
  CallPage page;
  ASSIGN_OR_RETURN(page.calls, ReadCalls(stmt));
  if (page.calls.size() > static_cast<size_t>(limit)) {
    page.calls.resize(static_cast<size_t>(limit));
    page.next_before_rowid = page.calls.back().rowid;
  }
  return page;
}

}  // namespace callsd::server
