#include "daemon/store/sqlite_state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/store/migrations.h"
#include "glog/logging.h"

namespace callsd::daemon {
namespace {

int64_t ToMs(absl::Time t) { return absl::ToUnixMillis(t); }
absl::Time FromMs(int64_t ms) { return absl::FromUnixMillis(ms); }
std::optional<int64_t> ToMs(const std::optional<absl::Time>& t) {
  return t ? std::optional<int64_t>(ToMs(*t)) : std::nullopt;
}
std::optional<absl::Time> FromMs(const std::optional<int64_t>& ms) {
  return ms ? std::optional<absl::Time>(FromMs(*ms)) : std::nullopt;
}

// mkdir -p with 0700 for the last component and 0755 for missing parents.
absl::Status EnsurePrivateDir(const std::string& dir) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = dir.find('/', pos + 1);
    const std::string prefix = dir.substr(0, pos);
    const bool last = pos == std::string::npos;
    if (::mkdir(prefix.c_str(), last ? 0700 : 0755) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          absl::StrCat("state directory ", dir, ": cannot create ", prefix, ": ",
                       std::strerror(errno)));
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("state directory ", dir, " is not a directory"));
  }
  if ((st.st_mode & 077) != 0) {
    if (st.st_uid != geteuid() || ::chmod(dir.c_str(), 0700) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state directory ", dir, " is accessible to others (mode ",
          absl::StrCat(absl::Hex(st.st_mode & 0777)), ") and cannot be made 0700"));
    }
    LOG(WARNING) << "state directory " << dir << " was accessible to others; now 0700";
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(
    const std::string& state_dir) {
  RETURN_IF_ERROR(EnsurePrivateDir(state_dir));

  const std::string lock_path = absl::StrCat(state_dir, "/", kFileName, ".lock");
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("state lock ", lock_path, ": ", std::strerror(errno)));
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "state directory ", state_dir, " is in use by another callsd (",
        err == EWOULDBLOCK ? "lock held" : std::strerror(err), " on ", lock_path, ")"));
  }

  const std::string path = absl::StrCat(state_dir, "/", kFileName);
  // Older files may have been created with a laxer mode: tighten them
  // before opening, as SQLite gives the -wal and -shm files it creates the
  // database's mode.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = path + suffix;
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      ::chmod(file.c_str(), 0600);
      LOG(WARNING) << "state database " << file << " was accessible to others; now 0600";
    }
  }
  SqliteDb::Options options;
  options.synchronous = "FULL";
  auto db = SqliteDb::Open(path, options);
  if (!db.ok()) {
    ::close(lock_fd);
    return db.status();
  }
  absl::Status migrated = (*db)->Migrate(StateMigrations());
  if (!migrated.ok()) {
    ::close(lock_fd);
    return migrated;
  }
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(*std::move(db), lock_fd));
}

SqliteStateStore::SqliteStateStore(std::unique_ptr<SqliteDb> db, int lock_fd)
    : db_(std::move(db)), lock_fd_(lock_fd) {}

SqliteStateStore::~SqliteStateStore() {
  db_.reset();
  ::close(lock_fd_);  // releases the flock
}

absl::StatusOr<std::optional<std::string>> SqliteStateStore::LoadAppId() {
  ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("SELECT app_id FROM app WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

absl::Status SqliteStateStore::ResetApp(const std::string& app_id) {
  return db_->Transaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement current, db_->Prepare("SELECT app_id FROM app WHERE id = 1"));
    ASSIGN_OR_RETURN(bool row, current.Step());
    if (row && current.ColumnText(0) == app_id) return absl::OkStatus();
    for (const std::string& table : CallRelatedTables()) {
      RETURN_IF_ERROR(db_->Exec(absl::StrCat("DELETE FROM ", table)));
    }
    ASSIGN_OR_RETURN(Statement put,
                     db_->Prepare("INSERT OR REPLACE INTO app (id, app_id, initialized_at) "
                                  "VALUES (1, ?, ?)"));
    put.Bind(1, app_id).Bind(2, ToMs(absl::Now()));
    return put.Run();
  });
}

absl::StatusOr<std::optional<StoredSession>> SqliteStateStore::LoadSession() {
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("SELECT user_id, nickname, token_kind, token, token_expires_at, "
                                "session_key, push_key, authenticated_at FROM session WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<StoredSession>();
  StoredSession s;
  s.user_id = stmt.ColumnText(0);
  s.nickname = stmt.ColumnText(1);
  s.token_kind = static_cast<TokenKind>(stmt.ColumnInt(2));
  s.token = stmt.ColumnText(3);
  if (auto ms = stmt.ColumnOptionalInt(4)) s.token_expires_at = FromMs(*ms);
  s.session_key = stmt.ColumnText(5);
  s.push_key = stmt.ColumnBlob(6);
  if (auto ms = stmt.ColumnOptionalInt(7)) s.authenticated_at = FromMs(*ms);
  return std::optional<StoredSession>(std::move(s));
}

absl::Status SqliteStateStore::SaveSession(const StoredSession& s) {
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("INSERT OR REPLACE INTO session (id, user_id, nickname, token_kind, "
                                "token, token_expires_at, session_key, push_key, authenticated_at) "
                                "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt.Bind(1, s.user_id)
      .Bind(2, s.nickname)
      .Bind(3, static_cast<int64_t>(s.token_kind))
      .Bind(4, s.token)
      .Bind(5, s.token_expires_at ? std::optional<int64_t>(ToMs(*s.token_expires_at))
                                  : std::nullopt)
      .Bind(6, s.session_key)
      .BindBlob(7, s.push_key)
      .Bind(8, s.authenticated_at ? std::optional<int64_t>(ToMs(*s.authenticated_at))
                                  : std::nullopt);
  return stmt.Run();
}

absl::Status SqliteStateStore::InsertOps(std::vector<PendingOp>* ops) {
  for (PendingOp& op : *ops) {
    ASSIGN_OR_RETURN(Statement stmt,
                     db_->Prepare("INSERT INTO pending_ops (kind, app_id, session_key, type, "
                                  "token, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    stmt.Bind(1, static_cast<int64_t>(op.kind))
        .Bind(2, op.creds.app_id)
        .Bind(3, op.creds.session_key)
        .Bind(4, static_cast<int64_t>(op.type == PushType::kVoip ? 1 : 2))
        .Bind(5, op.token)
        .Bind(6, static_cast<int64_t>(op.attempts))
        .Bind(7, ToMs(op.created_at));
    RETURN_IF_ERROR(stmt.Run());
    op.id = db_->LastInsertRowId();
  }
  return absl::OkStatus();
}

absl::Status SqliteStateStore::ClearSession(std::vector<PendingOp>* ops) {
  return db_->Transaction([&]() -> absl::Status {
    RETURN_IF_ERROR(db_->Exec("DELETE FROM session"));
    RETURN_IF_ERROR(db_->Exec("UPDATE push_tokens SET state = 1, error_code = 0, error = ''"));
    return InsertOps(ops);
  });
}

absl::StatusOr<std::vector<StoredPushToken>> SqliteStateStore::LoadPushTokens() {
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("SELECT type, token, state, is_unique, error_code, error, "
                                "updated_at FROM push_tokens ORDER BY updated_at, rowid"));
  std::vector<StoredPushToken> tokens;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    StoredPushToken t;
    t.type = stmt.ColumnInt(0) == 1 ? PushType::kVoip : PushType::kRemote;
    t.token = stmt.ColumnText(1);
    t.state = static_cast<PushTokenState>(stmt.ColumnInt(2));
    t.unique = stmt.ColumnInt(3) != 0;
    t.error_code = static_cast<int>(stmt.ColumnInt(4));
    t.error = stmt.ColumnText(5);
    t.updated_at = FromMs(stmt.ColumnInt(6));
    tokens.push_back(std::move(t));
  }
  return tokens;
}

absl::Status SqliteStateStore::SavePushToken(const StoredPushToken& t) {
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("INSERT INTO push_tokens (type, token, state, is_unique, "
                                "error_code, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                                "ON CONFLICT (type, token) DO UPDATE SET state = excluded.state, "
                                "is_unique = excluded.is_unique, error_code = excluded.error_code, "
                                "error = excluded.error, updated_at = excluded.updated_at"));
  stmt.Bind(1, static_cast<int64_t>(t.type == PushType::kVoip ? 1 : 2))
      .Bind(2, t.token)
      .Bind(3, static_cast<int64_t>(t.state))
      .Bind(4, static_cast<int64_t>(t.unique ? 1 : 0))
      .Bind(5, static_cast<int64_t>(t.error_code))
      .Bind(6, t.error)
      .Bind(7, ToMs(t.updated_at));
  return stmt.Run();
}

absl::Status SqliteStateStore::RemovePushTokens(PushType type, const std::string& token,
                                                std::vector<PendingOp>* ops) {
  return db_->Transaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     db_->Prepare(token.empty()
                                      ? "DELETE FROM push_tokens WHERE type = ?"
                                      : "DELETE FROM push_tokens WHERE type = ? AND token = ?"));
    stmt.Bind(1, static_cast<int64_t>(type == PushType::kVoip ? 1 : 2));
    if (!token.empty()) stmt.Bind(2, token);
    RETURN_IF_ERROR(stmt.Run());
    return InsertOps(ops);
  });
}

absl::StatusOr<std::vector<PendingOp>> SqliteStateStore::LoadPendingOps() {
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("SELECT id, kind, app_id, session_key, type, token, attempts, "
                                "created_at FROM pending_ops ORDER BY id"));
  std::vector<PendingOp> ops;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    PendingOp op;
    op.id = stmt.ColumnInt(0);
    op.kind = static_cast<PendingOp::Kind>(stmt.ColumnInt(1));
    op.creds.app_id = stmt.ColumnText(2);
    op.creds.session_key = stmt.ColumnText(3);
    op.type = stmt.ColumnInt(4) == 1 ? PushType::kVoip : PushType::kRemote;
    op.token = stmt.ColumnText(5);
    op.attempts = static_cast<int>(stmt.ColumnInt(6));
    op.created_at = FromMs(stmt.ColumnInt(7));
    ops.push_back(std::move(op));
  }
  return ops;
}

absl::Status SqliteStateStore::UpdatePendingOp(const PendingOp& op) {
  ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("UPDATE pending_ops SET attempts = ? WHERE id = ?"));
  stmt.Bind(1, static_cast<int64_t>(op.attempts)).Bind(2, op.id);
  return stmt.Run();
}

absl::Status SqliteStateStore::DeletePendingOp(int64_t id) {
  ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("DELETE FROM pending_ops WHERE id = ?"));
  stmt.Bind(1, id);
  return stmt.Run();
}

absl::Status SqliteStateStore::SaveCall(const CallRecord& c) {
  return db_->WithoutFsync([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     db_->Prepare("INSERT OR REPLACE INTO calls (call_id, direction, caller_id, "
                                  "caller_nickname, callee_id, callee_nickname, video, state, "
                                  "started_at, established_at, connected_at, ended_at, end_result, "
                                  "ended_by, ringing_until) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    stmt.Bind(1, c.call_id)
        .Bind(2, static_cast<int64_t>(c.direction))
        .Bind(3, c.caller_id)
        .Bind(4, c.caller_nickname)
        .Bind(5, c.callee_id)
        .Bind(6, c.callee_nickname)
        .Bind(7, static_cast<int64_t>(c.video ? 1 : 0))
        .Bind(8, static_cast<int64_t>(c.state))
        .Bind(9, ToMs(c.started_at))
        .Bind(10, ToMs(c.established_at))
        .Bind(11, ToMs(c.connected_at))
        .Bind(12, ToMs(c.ended_at))
        .Bind(13, static_cast<int64_t>(c.end_result))
        .Bind(14, c.ended_by)
        .Bind(15, ToMs(c.ringing_until));
    return stmt.Run();
  });
}

absl::StatusOr<std::vector<CallRecord>> SqliteStateStore::LoadCalls() {
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("SELECT call_id, direction, caller_id, caller_nickname, callee_id, "
                                "callee_nickname, video, state, started_at, established_at, "
                                "connected_at, ended_at, end_result, ended_by, ringing_until "
                                "FROM calls ORDER BY started_at"));
  std::vector<CallRecord> calls;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    CallRecord c;
    c.call_id = stmt.ColumnText(0);
    c.direction = static_cast<CallDirection>(stmt.ColumnInt(1));
    c.caller_id = stmt.ColumnText(2);
    c.caller_nickname = stmt.ColumnText(3);
    c.callee_id = stmt.ColumnText(4);
    c.callee_nickname = stmt.ColumnText(5);
    c.video = stmt.ColumnInt(6) != 0;
    c.state = static_cast<CallState>(stmt.ColumnInt(7));
    c.started_at = FromMs(stmt.ColumnInt(8));
    c.established_at = FromMs(stmt.ColumnOptionalInt(9));
    c.connected_at = FromMs(stmt.ColumnOptionalInt(10));
    c.ended_at = FromMs(stmt.ColumnOptionalInt(11));
    c.end_result = static_cast<EndResult>(stmt.ColumnInt(12));
    c.ended_by = stmt.ColumnText(13);
    c.ringing_until = FromMs(stmt.ColumnOptionalInt(14));
    calls.push_back(std::move(c));
  }
  return calls;
}

absl::Status SqliteStateStore::DeleteCallsEndedBefore(absl::Time before) {
  ASSIGN_OR_RETURN(Statement stmt,
                   db_->Prepare("DELETE FROM calls WHERE state = ? AND ended_at < ?"));
  stmt.Bind(1, static_cast<int64_t>(CallState::kEnded)).Bind(2, ToMs(before));
  return stmt.Run();
}

absl::Status SqliteStateStore::SaveCallLog(const std::vector<wire::v1::CallInfo>& calls) {
  return db_->WithoutFsync([&] {
    return db_->Transaction([&]() -> absl::Status {
      for (const wire::v1::CallInfo& info : calls) {
        ASSIGN_OR_RETURN(Statement stmt,
                         db_->Prepare("INSERT OR REPLACE INTO call_log (call_id, info, created_at) "
                                      "VALUES (?, ?, ?)"));
        stmt.Bind(1, info.call_id())
            .BindBlob(2, info.SerializeAsString())
            .Bind(3, info.created_at());
        RETURN_IF_ERROR(stmt.Run());
      }
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<std::vector<wire::v1::CallInfo>> SqliteStateStore::LoadCallLog(int limit) {
  ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("SELECT info FROM call_log "
                                                "ORDER BY created_at DESC, call_id LIMIT ?"));
  stmt.Bind(1, static_cast<int64_t>(limit));
  std::vector<wire::v1::CallInfo> calls;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    wire::v1::CallInfo info;
    if (info.ParseFromString(stmt.ColumnBlob(0))) calls.push_back(std::move(info));
  }
  return calls;
}

}  // namespace callsd::daemon
