#include "server/demo.h"

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "server/file_util.h"

namespace callsd::server {
namespace {

// The secret in `path`, or a new random one written there (0600).
absl::StatusOr<std::string> ReadOrCreateSecret(const std::string& path, bool* created) {
  absl::StatusOr<std::string> secret = ReadSecretFile(path);
  *created = false;
  if (secret.ok() || !absl::IsNotFound(secret.status())) return secret;
  std::string fresh = RandomToken();
  RETURN_IF_ERROR(WriteFileAtomically(path, fresh + "\n", 0600));
  *created = true;
  return fresh;
}

absl::Status SetUpDemoUser(const std::string& dir, Store* store, absl::string_view user_id,
                           absl::string_view nickname, int64_t now_ms) {
  absl::StatusOr<UserRecord> user = store->GetUser(kDemoAppId, user_id);
  if (absl::IsNotFound(user.status())) {
    user = store->CreateUser(kDemoAppId, user_id, nickname, RandomBytes(32), "", now_ms);
  }
  RETURN_IF_ERROR(user.status());

  const std::string path = absl::StrCat(dir, "/", user_id, ".token");
  absl::StatusOr<std::string> token = ReadSecretFile(path);
  if (token.ok()) {
    absl::Status status = store->AddAccessToken(user->rowid, Sha256Hex(*token), now_ms);
    if (absl::IsAlreadyExists(status)) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " holds the access token of another user; delete it to issue a new one"));
    }
    return status;
  }
  if (!absl::IsNotFound(token.status())) return token.status();
  const std::string fresh = RandomToken();
  RETURN_IF_ERROR(store->ReplaceAccessTokens(user->rowid, Sha256Hex(fresh), now_ms));
  RETURN_IF_ERROR(WriteFileAtomically(path, fresh + "\n", 0600));
  LOG(INFO) << "demo: issued a new access token for " << user_id << " in " << path;
  return absl::OkStatus();
}

}  // namespace

absl::Status SetUpDemo(const std::string& dir, Store* store, AppRegistry* apps,
                       const Clock& clock) {
  RETURN_IF_ERROR(MakeDirs(dir, 0700));
  bool created = false;
  const std::string token_path = absl::StrCat(dir, "/api-token");
  ASSIGN_OR_RETURN(const std::string master_token, ReadOrCreateSecret(token_path, &created));
  if (created) LOG(INFO) << "demo: wrote a new master token for " << kDemoAppId << " to " << token_path;
  absl::Status added = apps->Add(kDemoAppId, master_token);
  if (!added.ok()) return absl::FailedPreconditionError(absl::StrCat("demo: ", added.message()));

  const int64_t now_ms = absl::ToUnixMillis(clock.Now());
  RETURN_IF_ERROR(SetUpDemoUser(dir, store, "alice", "Alice", now_ms));
  RETURN_IF_ERROR(SetUpDemoUser(dir, store, "bob", "Bob", now_ms));
  LOG(INFO) << "demo: app " << kDemoAppId << " with users alice and bob; secrets in " << dir;
  return absl::OkStatus();
}

}  // namespace callsd::server
