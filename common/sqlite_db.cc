#include "common/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/fault_point.h"
#include "common/status_macros.h"

namespace callsd {
namespace {

absl::StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kAlreadyExists;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

// --- Statement --------------------------------------------------------------

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = absl::InternalError(sqlite3_errstr(rc));
  return *this;
}

Statement& Statement::Bind(int index, absl::string_view text) {
  int rc = sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = absl::InternalError(sqlite3_errstr(rc));
  return *this;
}

Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  int rc = sqlite3_bind_blob64(stmt_.get(), index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = absl::InternalError(sqlite3_errstr(rc));
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_.get(), index);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = absl::InternalError(sqlite3_errstr(rc));
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return absl::Status(CodeFor(rc),
                      absl::StrCat("SQLite: ", sqlite3_errmsg(db_), " (in: ",
                                   sqlite3_sql(stmt_.get()), ")"));
}

absl::Status Statement::Run() {
  FaultPoint("sqlite.before_write");
  for (;;) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  FaultPoint("sqlite.after_write");
  return absl::OkStatus();
}

int64_t Statement::ColumnInt(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_.get(), column));
}

std::string Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_.get(), column);
  if (blob == nullptr) return {};
  return std::string(static_cast<const char*>(blob), sqlite3_column_bytes(stmt_.get(), column));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

// --- SqliteDb ---------------------------------------------------------------

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path,
                                                         const Options& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !options.create) {
      return absl::FailedPreconditionError(
          absl::StrCat("database ", path, ": ", std::strerror(errno)));
    }
    // Create it ourselves so that it is 0600 from the first byte; SQLite
    // gives its -wal and -shm files the same mode.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("database ", path, ": cannot create: ", std::strerror(errno)));
    }
    ::close(fd);
  } else if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("database ", path, ": not a regular file"));
  }

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(path, raw));
  if (rc != SQLITE_OK) {
    return absl::Status(CodeFor(rc), absl::StrCat("database ", path, ": cannot open: ",
                                                  raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);

  // The first statements read the header: a file that is not a database or
  // is corrupt fails here, named.
  db->set_synchronous(options.synchronous);
  absl::Status status = db->Exec(absl::StrCat("PRAGMA journal_mode=WAL; PRAGMA synchronous=",
                                               options.synchronous,
                                               "; PRAGMA foreign_keys=ON;"));
  if (status.ok() && options.check_integrity) {
    auto check = db->Prepare("PRAGMA quick_check");
    if (!check.ok()) {
      status = check.status();
    } else {
      auto row = check->Step();
      if (!row.ok()) {
        status = row.status();
      } else if (*row && check->ColumnText(0) != "ok") {
        status = absl::DataLossError(absl::StrCat("integrity check failed: ", check->ColumnText(0)));
      }
    }
  }
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("database ", path, " is unusable: ", status.message()));
  }
  return db;
}

SqliteDb::~SqliteDb() = default;

absl::Status SqliteDb::Error(int rc, absl::string_view what) const {
  return absl::Status(CodeFor(rc), absl::StrCat("SQLite: ", sqlite3_errmsg(db_.get()),
                                                " (in: ", what, ")"));
}

absl::Status SqliteDb::Exec(absl::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    absl::Status status(CodeFor(rc), absl::StrCat("SQLite: ", message ? message : sqlite3_errstr(rc)));
    sqlite3_free(message);
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> SqliteDb::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt,
                                    nullptr);
  if (rc != SQLITE_OK) return Error(rc, sql);
  return Statement(db_.get(), stmt);
}

absl::Status SqliteDb::Transaction(absl::FunctionRef<absl::Status()> body) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status status = body();
  FaultPoint("sqlite.before_commit");
  if (status.ok()) status = Exec("COMMIT");
  if (status.ok()) FaultPoint("sqlite.after_commit");
  if (!status.ok()) {
    // After a failed COMMIT SQLite may already have rolled back.
    if (!sqlite3_get_autocommit(db_.get())) (void)Exec("ROLLBACK");
  }
  return status;
}

absl::StatusOr<int> SqliteDb::UserVersion() {
  ASSIGN_OR_RETURN(Statement stmt, Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<int>(stmt.ColumnInt(0)) : 0;
}

absl::Status SqliteDb::WithoutFsync(absl::FunctionRef<absl::Status()> body) {
  RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
  absl::Status status = body();
  absl::Status restored = Exec(absl::StrCat("PRAGMA synchronous=", synchronous_));
  return status.ok() ? restored : status;
}

absl::Status SqliteDb::Migrate(const std::vector<std::string>& migrations) {
  ASSIGN_OR_RETURN(int version, UserVersion());
  const int target = static_cast<int>(migrations.size());
  if (version > target) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", path_, " has schema version ", version,
        ", newer than this program's ", target, "; upgrade the program"));
  }
  for (int v = version; v < target; ++v) {
    absl::Status status = Transaction([&]() -> absl::Status {
      RETURN_IF_ERROR(Exec(migrations[v]));
      return Exec(absl::StrCat("PRAGMA user_version=", v + 1));
    });
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("database ", path_, ": migration to version ",
                                                      v + 1, " failed: ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace callsd
