// Who is calling, and what they may do (DESIGN.md "Access control").
//
// The peer's uid/gid/groups come from SO_PEERCRED / SO_PEERGROUPS on the
// connection, read by the daemon's own accept loop, recorded per fd before
// the fd is handed to gRPC, and looked up at the start of each handler from
// the context's peer string ("fd:N").
#ifndef CALLSD_DAEMON_RPC_PEER_ACCESS_H_
#define CALLSD_DAEMON_RPC_PEER_ACCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace callsd::daemon::rpc {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  std::vector<gid_t> groups;  // supplementary groups

  bool InGroup(gid_t g) const;
};

// SO_PEERCRED (+ SO_PEERGROUPS) of a connected Unix socket.
absl::StatusOr<PeerCredentials> ReadPeerCredentials(int fd);

// kPush (DeliverPush) is the control tier unless push distributors are
// configured: then only they and the admin tier may deliver pushes.
enum class Tier { kRead, kControl, kPush, kAdmin };
const char* TierName(Tier tier);

// The tier each method of callsd.v1.Calls needs (the one table the service
// checks against); nullopt for a name that is not such a method.
std::optional<Tier> MethodTier(absl::string_view method);

struct AccessPolicy {
  uid_t daemon_uid = 0;
  // Members may read and, unless control_needs_admin, control calls.
  gid_t socket_gid = 0;
  bool control_needs_admin = false;
  std::vector<uid_t> operator_uids;
  std::vector<gid_t> operator_gids;
  // The push distributor's users and groups; both empty: the push tier is
  // the control tier.
  std::vector<uid_t> push_distributor_uids;
  std::vector<gid_t> push_distributor_gids;

  // root, the daemon's uid, an operator user or a member of an operator group.
  bool IsAdmin(const PeerCredentials& peer) const;
  bool PushIsNarrowed() const {
    return !push_distributor_uids.empty() || !push_distributor_gids.empty();
  }
  bool IsPushDistributor(const PeerCredentials& peer) const;
  bool Allows(const PeerCredentials& peer, Tier tier) const;
  // OK, or PERMISSION_DENIED naming `method`, the tier and the peer's uid.
  absl::Status Check(const PeerCredentials& peer, Tier tier, absl::string_view method) const;
};

// fd -> credentials of the connection currently on that fd. Thread-safe.
class PeerRegistry {
 public:
  void Record(int fd, PeerCredentials creds);
  // From a gRPC peer string "fd:N"; nullopt for anything else.
  std::optional<PeerCredentials> Lookup(absl::string_view peer) const;

 private:
  mutable absl::Mutex mu_;
  std::unordered_map<int, PeerCredentials> by_fd_ ABSL_GUARDED_BY(mu_);
};

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_PEER_ACCESS_H_
