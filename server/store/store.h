// Store: calls-server's persistent state in one SQLite file (WAL).
//
// What is kept: users (per app), their access tokens, session tokens and
// session keys (only as SHA-256 hex hashes, never the secrets), their push
// keys (raw: the server signs pushes with them), their push tokens, direct
// calls (ringing, active and ended: the call logs) and rooms (without their
// participants, who exist only while connected).
//
// The store holds no policy beyond what must be atomic (push-token limits,
// moves and `unique`); callers validate input and decide what an outcome
// means on the wire. Times are Unix milliseconds chosen by the caller, so that
// tests control them.
//
// Errors: NOT_FOUND and ALREADY_EXISTS where documented; any other SQLite
// failure with the code SqliteDb gives it (common/sqlite_db.h: mostly
// INTERNAL, UNAVAILABLE when the file stays locked) and a message naming the
// SQL.
//
// Thread-safe: every method may be called from any thread.
#ifndef CALLSD_SERVER_STORE_STORE_H_
#define CALLSD_SERVER_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite_db.h"

namespace callsd::server {

enum class PushType { kVoip, kRemote };

// "voip" / "remote": the URL path segment, the stored value and the JSON.
const char* PushTypeName(PushType type);
// Inverse of PushTypeName; nullopt for anything else.
std::optional<PushType> ParsePushType(absl::string_view name);

struct UserRecord {
  int64_t rowid = 0;  // the store's key of the user; stable while it exists
  std::string app_id;
  std::string user_id;
  std::string nickname;
  int64_t created_at_ms = 0;
  std::string push_key;  // raw bytes
  // When the user first got a session key; 0 if they never authenticated.
  int64_t authenticated_at_ms = 0;
};

struct SessionTokenRecord {
  int64_t id = 0;
  int64_t expires_at_ms = 0;
  bool revoked = false;
};

struct SessionKeyRecord {
  UserRecord user;
  // Set when the key was obtained with a session token: the key lives and
  // dies with that token.
  std::optional<int64_t> session_token_id;
  int64_t expires_at_ms = 0;  // 0: never
  bool token_revoked = false;
};

struct PushTokenRecord {
  PushType type = PushType::kVoip;
  std::string token;
  int64_t registered_at_ms = 0;
};

// A direct call. Times are Unix ms, 0 when not (yet).
struct CallRecord {
  int64_t rowid = 0;  // set by InsertCall; orders calls by creation
  std::string call_id;
  std::string app_id;
  int64_t caller_rowid = 0;
  std::string caller_id;
  std::string caller_nickname;
  int64_t callee_rowid = 0;
  std::string callee_id;
  std::string callee_nickname;
  bool video = false;
  // "ringing", "established", "connected" or "ended".
  std::string state;
  int64_t created_at_ms = 0;
  int64_t established_at_ms = 0;
  int64_t connected_at_ms = 0;
  int64_t ended_at_ms = 0;
  std::string end_result;  // as the caller sees it; "" until ended
  int64_t duration_ms = 0;
  std::string ended_by;  // a user ID, or ""
  // Each side's session key (SHA-256 hex) and WebSocket connection number
  // (local to one server run; 0: none).
  std::string caller_session;
  uint64_t caller_conn = 0;
  std::string callee_session;
  uint64_t callee_conn = 0;
};

// A room (group call). Times are Unix ms.
struct RoomRecord {
  int64_t rowid = 0;  // set by InsertRoom
  std::string room_id;
  std::string app_id;
  std::string type;  // "small" or "large"
  int64_t owner_rowid = 0;
  std::string owner_id;
  int64_t created_at_ms = 0;
  bool deleted = false;
  int64_t deleted_at_ms = 0;  // 0 unless deleted
};

// One page of a user's calls, newest first.
struct CallPage {
  std::vector<CallRecord> calls;
  // Pass as `before_rowid` for the next page; 0 when this was the last one.
  int64_t next_before_rowid = 0;
};

class Store {
 public:
  // The schema version this build writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 3;

  // Opens or creates the database at `path` (created 0600), switches it to
  // WAL, and brings its schema to kSchemaVersion. FAILED_PRECONDITION naming
  // `path` when the file cannot be opened, is not a database, is corrupt or
  // has a newer schema than this build knows.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // ---- Users ---------------------------------------------------------------

  // Creates the user and, when `access_token_hash` is not empty, gives them
  // that access token, atomically. ALREADY_EXISTS when (app_id, user_id)
  // exists.
  absl::StatusOr<UserRecord> CreateUser(absl::string_view app_id, absl::string_view user_id,
                                        absl::string_view nickname, absl::string_view push_key,
                                        absl::string_view access_token_hash, int64_t now_ms);
  // NOT_FOUND when there is no such user.
  absl::StatusOr<UserRecord> GetUser(absl::string_view app_id, absl::string_view user_id);
  // Deletes the user with their access tokens, session tokens, session keys
  // and push tokens, atomically. NOT_FOUND when there is no such user.
  absl::Status DeleteUser(absl::string_view app_id, absl::string_view user_id);

  // ---- Access tokens (never expire) ----------------------------------------

  // Adds `token_hash` as an access token of the user. Idempotent for the
  // same user; ALREADY_EXISTS when the hash belongs to another user.
  absl::Status AddAccessToken(int64_t user_rowid, absl::string_view token_hash, int64_t now_ms);
  // Makes `token_hash` the user's only access token.
  absl::Status ReplaceAccessTokens(int64_t user_rowid, absl::string_view token_hash,
                                   int64_t now_ms);
  absl::StatusOr<bool> HasAccessToken(int64_t user_rowid, absl::string_view token_hash);

  // ---- Session tokens -------------------------------------------------------

  absl::StatusOr<SessionTokenRecord> AddSessionToken(int64_t user_rowid,
                                                     absl::string_view token_hash,
                                                     int64_t expires_at_ms, int64_t now_ms);
  // NOT_FOUND when `token_hash` is not a session token of this user.
  // Revoked and expired tokens are found (the caller tells them apart).
  absl::StatusOr<SessionTokenRecord> FindSessionToken(int64_t user_rowid,
                                                      absl::string_view token_hash);
  // Marks every unrevoked session token of the user revoked; the session
  // keys obtained with them are kept so that their next use can say so.
  // Returns how many tokens were revoked.
  absl::StatusOr<int> RevokeSessionTokens(int64_t user_rowid);

  // ---- Session keys ---------------------------------------------------------

  // `session_token_id`: the session token it was obtained with, if any.
  // `expires_at_ms`: 0 for never. The user's first session key also sets
  // their authenticated_at_ms.
  absl::Status AddSessionKey(absl::string_view key_hash, int64_t user_rowid,
                             std::optional<int64_t> session_token_id, int64_t expires_at_ms,
                             int64_t now_ms);
  // NOT_FOUND for an unknown (or deleted) key. Expired and revoked keys are
  // found; the caller checks expires_at_ms and token_revoked.
  absl::StatusOr<SessionKeyRecord> FindSessionKey(absl::string_view key_hash);
  // NOT_FOUND when there was no such key.
  absl::Status DeleteSessionKey(absl::string_view key_hash);

  // ---- Push tokens ----------------------------------------------------------

  // Registers `token` of `type` for the user, atomically:
  //  - a token of this type that another user of the same app holds moves to
  //    this user;
  //  - registering a token the user already has refreshes registered_at (it
  //    becomes the newest);
  //  - `unique`: the user's other tokens of this type are removed;
  //  - then, while the user has more than `max_per_type` tokens of this type,
  //    the oldest is removed.
  // Returns how many of the user's other tokens were removed (unique or limit).
  absl::StatusOr<int> RegisterPushToken(const UserRecord& user, PushType type,
                                        absl::string_view token, bool unique,
                                        int max_per_type, int64_t now_ms);
  // Returns how many tokens were removed (0 or 1); never NOT_FOUND.
  absl::StatusOr<int> UnregisterPushToken(int64_t user_rowid, PushType type,
                                          absl::string_view token);
  // Removes all of the user's tokens of `type`; returns how many.
  absl::StatusOr<int> UnregisterPushTokens(int64_t user_rowid, PushType type);
  // Every token of the user, both types, oldest registration first.
  absl::StatusOr<std::vector<PushTokenRecord>> ListPushTokens(int64_t user_rowid);

  // ---- Calls (store_calls.cc) -----------------------------------------------

  // Inserts `call` (its rowid is ignored) and returns its rowid.
  // ALREADY_EXISTS when the call_id is taken.
  absl::StatusOr<int64_t> InsertCall(const CallRecord& call);
  // Overwrites every field of the call with `call.call_id` (rowid, app and
  // users excepted). NOT_FOUND when there is no such call.
  absl::Status UpdateCall(const CallRecord& call);
  // NOT_FOUND when there is no such call.
  absl::StatusOr<CallRecord> GetCall(absl::string_view call_id);
  // Every call that has not ended, oldest first (for a restart).
  absl::StatusOr<std::vector<CallRecord>> ListUnendedCalls();
  // Calls ringing for the user as callee, oldest first.
  absl::StatusOr<std::vector<CallRecord>> ListRingingCalls(int64_t callee_rowid);
  // The user's calls (as caller or callee, any state), newest first: at most
  // `limit` (>= 1) of those with a rowid below `before_rowid` (0: from the
  // newest).
  absl::StatusOr<CallPage> ListCalls(int64_t user_rowid, int limit, int64_t before_rowid);

  // ---- Rooms (store_rooms.cc) -----------------------------------------------

  // Inserts `room` (its rowid is ignored) and returns its rowid.
  // ALREADY_EXISTS when the room_id is taken.
  absl::StatusOr<int64_t> InsertRoom(const RoomRecord& room);
  // NOT_FOUND when there is no such room (deleted rooms are found).
  absl::StatusOr<RoomRecord> GetRoom(absl::string_view room_id);
  // Marks the room deleted at `now_ms`. NOT_FOUND when there is no such
  // room; a room already deleted keeps its first deleted_at.
  absl::Status MarkRoomDeleted(absl::string_view room_id, int64_t now_ms);

 private:
  explicit Store(std::unique_ptr<SqliteDb> db);

  absl::Mutex mu_;
  const std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_STORE_STORE_H_
