// A program outside the callsd tree, built against an installed
// libcallsclient (find_package(CallsClient) or pkg-config callsclient).
//   consumer            prints DefaultSocketPath(), then tries to connect to it
#include <iostream>

#include "callsd/client.h"
#include "callsd/v1/callsd.pb.h"

int main() {
  const std::string path = callsd::client::DefaultSocketPath();
  std::cout << "socket " << path << "\n";
  callsd::client::ClientOptions options;
  options.socket_path = path;
  auto client = callsd::client::Client::Connect(options);
  if (!client.ok()) {
    std::cout << "connect " << client.status() << "\n";
    return 0;
  }
  auto state = (*client)->GetState({});
  if (!state.ok()) {
    std::cout << "state " << state.status() << "\n";
    return 0;
  }
  std::cout << "state " << callsd::v1::SessionState_Name(state->session_state()) << "\n";
  return 0;
}
