// The SQLite StateStore: one file (0600) in the state directory (0700),
// WAL, synchronous=FULL, schema versioned with PRAGMA user_version.
#ifndef CALLSD_DAEMON_STORE_SQLITE_STATE_STORE_H_
#define CALLSD_DAEMON_STORE_SQLITE_STATE_STORE_H_

#include <memory>
#include <string>

#include "common/sqlite_db.h"
#include "daemon/store/state_store.h"

namespace callsd::daemon {

class SqliteStateStore final : public StateStore {
 public:
  // The database file's name inside the state directory.
  static constexpr char kFileName[] = "callsd.db";

  // Opens (creating on first use) `state_dir`/callsd.db. Creates the
  // directory 0700 when missing and tightens an existing one owned by us to
  // 0700. Takes an exclusive lock on the directory, so a second daemon on
  // the same state fails here. Errors name the directory or file: not
  // creatable, unreadable, locked by another daemon, not a database,
  // corrupt, or from a newer version.
  static absl::StatusOr<std::unique_ptr<SqliteStateStore>> Open(const std::string& state_dir);

  ~SqliteStateStore() override;

  absl::StatusOr<std::optional<std::string>> LoadAppId() override;
  absl::Status ResetApp(const std::string& app_id) override;
  absl::StatusOr<std::optional<StoredSession>> LoadSession() override;
  absl::Status SaveSession(const StoredSession& session) override;
  absl::Status ClearSession(std::vector<PendingOp>* ops) override;
  absl::StatusOr<std::vector<StoredPushToken>> LoadPushTokens() override;
  absl::Status SavePushToken(const StoredPushToken& token) override;
  absl::Status RemovePushTokens(PushType type, const std::string& token,
                                std::vector<PendingOp>* ops) override;
  absl::StatusOr<std::vector<PendingOp>> LoadPendingOps() override;
  absl::Status UpdatePendingOp(const PendingOp& op) override;
  absl::Status DeletePendingOp(int64_t id) override;
  absl::Status SaveCall(const CallRecord& call) override;
  absl::StatusOr<std::vector<CallRecord>> LoadCalls() override;
  absl::Status DeleteCallsEndedBefore(absl::Time before) override;
  absl::Status SaveCallLog(const std::vector<wire::v1::CallInfo>& calls) override;
  absl::StatusOr<std::vector<wire::v1::CallInfo>> LoadCallLog(int limit) override;

  SqliteDb& db() { return *db_; }

 private:
  SqliteStateStore(std::unique_ptr<SqliteDb> db, int lock_fd);
  absl::Status InsertOps(std::vector<PendingOp>* ops);

  std::unique_ptr<SqliteDb> db_;
  int lock_fd_;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_STORE_SQLITE_STATE_STORE_H_
