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
  SqliteDb::Options options;
  options.synchronous = "FULL";
  auto db = SqliteDb::Open(path, options);
  if (!db.ok()) {
    ::close(lock_fd);
    return db.status();
  }
  // Older files may have been created with a laxer mode: tighten them.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    ::chmod(path.c_str(), 0600);
    LOG(WARNING) << "state database " << path << " was accessible to others; now 0600";
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

absl::Status SqliteStateStore::ClearSession() { return db_->Exec("DELETE FROM session"); }

}  // namespace callsd::daemon
