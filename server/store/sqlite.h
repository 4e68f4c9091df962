// Thin RAII helpers over the SQLite C API, with absl::Status errors.
//
// Not thread-safe: a Database and its Statements belong to whoever holds the
// lock that guards them (see Store).
#ifndef CALLSD_SERVER_STORE_SQLITE_H_
#define CALLSD_SERVER_STORE_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace callsd::server {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;

// INTERNAL status "sqlite: <what>: <sqlite's message>".
absl::Status SqliteError(sqlite3* db, absl::string_view what);

// Runs one or more statements that return no rows.
absl::Status Exec(sqlite3* db, const char* sql);

// A prepared statement. Bind indexes start at 1, column indexes at 0.
class Statement {
 public:
  // INTERNAL when `sql` does not compile.
  static absl::StatusOr<Statement> Prepare(sqlite3* db, absl::string_view sql);

  Statement(Statement&&) = default;
  Statement& operator=(Statement&&) = default;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, absl::string_view text);
  Statement& BindBlob(int index, absl::string_view bytes);
  Statement& BindNull(int index);

  // true: a row is ready to read; false: done. INTERNAL on error (including a
  // failed bind). A constraint violation is ALREADY_EXISTS.
  absl::StatusOr<bool> Step();

  // Steps to completion, ignoring rows.
  absl::Status Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  int bind_error_ = SQLITE_OK;
};

// BEGIN IMMEDIATE on construction (check status()); ROLLBACK on destruction
// unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  const absl::Status& status() const { return status_; }
  absl::Status Commit();

 private:
  sqlite3* db_;
  absl::Status status_;
  bool done_ = false;
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_STORE_SQLITE_H_
