// SqliteDb: a small RAII layer over the SQLite C API (statements, errors as
// absl::Status, transactions, user_version migrations). Not thread-safe: one
// owner thread per connection.
#ifndef CALLSD_COMMON_SQLITE_DB_H_
#define CALLSD_COMMON_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace callsd {

class Statement {
 public:
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  // Parameters are 1-based, as in SQLite. Text is copied.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, absl::string_view text);
  Statement& Bind(int index, const std::string& text) { return Bind(index, absl::string_view(text)); }
  Statement& Bind(int index, const char* text) { return Bind(index, absl::string_view(text)); }
  Statement& BindBlob(int index, absl::string_view bytes);
  Statement& BindNull(int index);
  Statement& Bind(int index, const std::optional<int64_t>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // true: a row is ready to read; false: done. Errors name the SQL.
  absl::StatusOr<bool> Step();
  // Steps to completion (for statements that return no rows).
  absl::Status Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;
  std::optional<int64_t> ColumnOptionalInt(int column) const {
    return ColumnIsNull(column) ? std::nullopt : std::optional<int64_t>(ColumnInt(column));
  }

 private:
  friend class SqliteDb;
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  absl::Status bind_error_;
};

class SqliteDb {
 public:
  struct Options {
    // Create the file (mode 0600) when it does not exist.
    bool create = true;
    // PRAGMA synchronous: "FULL" (every commit reaches the disk) or "NORMAL".
    std::string synchronous = "FULL";
    // Run PRAGMA quick_check at open (detects a corrupt file up front).
    bool check_integrity = true;
  };

  // Opens `path` in WAL mode. Errors name the file: missing (with
  // create=false), unreadable, not a database, corrupt.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                        const Options& options);

  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows.
  absl::Status Exec(absl::string_view sql);
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when `body`
  // or the commit fails, and returns that error. Not reentrant.
  absl::Status Transaction(absl::FunctionRef<absl::Status()> body);

  // Runs `body` with PRAGMA synchronous=NORMAL, then goes back to the
  // opening setting: for writes that must survive a crash of the program
  // (WAL does that) but not a power cut, on a path where an fsync per write
  // would cost milliseconds (a ring, a call's state).
  absl::Status WithoutFsync(absl::FunctionRef<absl::Status()> body);

  // Brings the schema to version migrations.size(): applies each missing
  // migration (index i moves user_version from i to i+1) in a transaction of
  // its own. A file newer than this program (user_version too high) is an
  // error naming both versions.
  absl::Status Migrate(const std::vector<std::string>& migrations);
  absl::StatusOr<int> UserVersion();

  int Changes() const { return sqlite3_changes(db_.get()); }
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_.get()); }
  const std::string& path() const { return path_; }
  void set_synchronous(std::string synchronous) { synchronous_ = std::move(synchronous); }
  sqlite3* raw() const { return db_.get(); }

 private:
  std::string synchronous_ = "FULL";  // the opening PRAGMA synchronous
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  SqliteDb(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  absl::Status Error(int rc, absl::string_view what) const;

  const std::string path_;
  std::unique_ptr<sqlite3, Closer> db_;
};

}  // namespace callsd

#endif  // CALLSD_COMMON_SQLITE_DB_H_
