#include "daemon/rpc/peer_access.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

namespace callsd::daemon::rpc {

bool PeerCredentials::InGroup(gid_t g) const {
  return gid == g || std::find(groups.begin(), groups.end(), g) != groups.end();
}

absl::StatusOr<PeerCredentials> ReadPeerCredentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::InternalError(absl::StrCat("SO_PEERCRED: ", std::strerror(errno)));
  }
  PeerCredentials peer;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  std::vector<gid_t> groups(64);
  for (int tries = 0; tries < 3; ++tries) {
    socklen_t bytes = groups.size() * sizeof(gid_t);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      peer.groups = std::move(groups);
      break;
    }
    if (errno != ERANGE) break;  // old kernel: primary gid only
    groups.resize(bytes / sizeof(gid_t) + 1);
  }
  return peer;
}

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kRead: return "read";
    case Tier::kControl: return "control";
    case Tier::kPush: return "push";
    case Tier::kAdmin: return "admin";
  }
  return "?";
}

std::optional<Tier> MethodTier(absl::string_view method) {
  struct Entry {
    absl::string_view method;
    Tier tier;
  };
  static constexpr Entry kTiers[] = {
      {"Init", Tier::kAdmin},
      {"Authenticate", Tier::kAdmin},
      {"Deauthenticate", Tier::kAdmin},
      {"RefreshSessionToken", Tier::kAdmin},
      {"RegisterPushToken", Tier::kAdmin},
      {"UnregisterPushToken", Tier::kAdmin},
      {"UnregisterAllPushTokens", Tier::kAdmin},
      {"GetState", Tier::kRead},
      {"WatchEvents", Tier::kRead},
      {"ListPushTokens", Tier::kRead},
      {"ListCalls", Tier::kRead},
      {"GetCallHistory", Tier::kRead},
      {"GetRoom", Tier::kRead},
      {"ListRooms", Tier::kRead},
      {"Dial", Tier::kControl},
      {"Accept", Tier::kControl},
      {"Decline", Tier::kControl},
      {"End", Tier::kControl},
      {"SetMuted", Tier::kControl},
      {"DeliverPush", Tier::kPush},
      {"CreateRoom", Tier::kControl},
      {"EnterRoom", Tier::kControl},
      {"ExitRoom", Tier::kControl},
      {"SetRoomMuted", Tier::kControl},
      {"DeleteRoom", Tier::kControl},
  };
  for (const Entry& e : kTiers) {
    if (e.method == method) return e.tier;
  }
  return std::nullopt;
}

bool AccessPolicy::IsAdmin(const PeerCredentials& peer) const {
  if (peer.uid == 0 || peer.uid == daemon_uid) return true;
  if (std::find(operator_uids.begin(), operator_uids.end(), peer.uid) != operator_uids.end()) {
    return true;
  }
  for (gid_t g : operator_gids) {
    if (peer.InGroup(g)) return true;
  }
  return false;
}

bool AccessPolicy::IsPushDistributor(const PeerCredentials& peer) const {
  if (std::find(push_distributor_uids.begin(), push_distributor_uids.end(), peer.uid) !=
      push_distributor_uids.end()) {
    return true;
  }
  for (gid_t g : push_distributor_gids) {
    if (peer.InGroup(g)) return true;
  }
  return false;
}

bool AccessPolicy::Allows(const PeerCredentials& peer, Tier tier) const {
  if (IsAdmin(peer)) return true;
  switch (tier) {
    case Tier::kRead:
      return peer.InGroup(socket_gid);
    case Tier::kControl:
      return !control_needs_admin && peer.InGroup(socket_gid);
    case Tier::kPush:
      return PushIsNarrowed() ? IsPushDistributor(peer) : Allows(peer, Tier::kControl);
    case Tier::kAdmin:
      return false;
  }
  return false;
}

absl::Status AccessPolicy::Check(const PeerCredentials& peer, Tier tier,
                                 absl::string_view method) const {
  if (Allows(peer, tier)) return absl::OkStatus();
  // Whom the tier is for, as configured.
  Tier effective = tier;
  if (tier == Tier::kPush && !PushIsNarrowed()) effective = Tier::kControl;
  if (effective == Tier::kControl && control_needs_admin) effective = Tier::kAdmin;
  std::string why;
  switch (effective) {
    case Tier::kPush:
      why = " is not a configured push distributor (access.push_distributor_users, "
            "access.push_distributor_groups)";
      break;
    case Tier::kAdmin:
      why = " is not root, the daemon's user or a configured operator";
      break;
    default:
      why = absl::StrCat(" is not in the socket group (gid ", socket_gid, ")");
  }
  return absl::PermissionDeniedError(absl::StrCat("permission denied: ", method, " needs the ",
                                                  TierName(tier), " tier; uid ", peer.uid, why));
}

void PeerRegistry::Record(int fd, PeerCredentials creds) {
  absl::MutexLock lock(&mu_);
  by_fd_[fd] = std::move(creds);
}

std::optional<PeerCredentials> PeerRegistry::Lookup(absl::string_view peer) const {
  int fd = -1;
  if (!absl::StartsWith(peer, "fd:") || !absl::SimpleAtoi(peer.substr(3), &fd)) {
    return std::nullopt;
  }
  absl::MutexLock lock(&mu_);
  auto it = by_fd_.find(fd);
  if (it == by_fd_.end()) return std::nullopt;
  return it->second;
}

}  // namespace callsd::daemon::rpc
