// A minimal WebSocket client on a raw loopback socket, for the transport
// tests: the upgrade request, masked frames out, frames in. Every read waits
// with a deadline (poll), never with a sleep.
#ifndef CALLSD_TESTS_UNIT_SERVER_WS_TEST_CLIENT_H_
#define CALLSD_TESTS_UNIT_SERVER_WS_TEST_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/wire_json.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server::testing {

class WsTestClient {
 public:
  static constexpr absl::Duration kTimeout = absl::Seconds(10);

  struct Frame {
    int opcode = 0;  // 1 text, 2 binary, 8 close, 9 ping, 10 pong
    std::string payload;
  };

  explicit WsTestClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~WsTestClient() { Close(); }
  WsTestClient(const WsTestClient&) = delete;
  WsTestClient& operator=(const WsTestClient&) = delete;

  bool connected() const { return connected_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Sends the upgrade; returns the HTTP status of the answer (101 when
  // upgraded), 0 when the server closed or did not answer in time.
  int Upgrade(const std::string& path,
              const std::vector<std::pair<std::string, std::string>>& headers) {
    std::string request = absl::StrCat(
        "GET ", path,
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
    for (const auto& [name, value] : headers) absl::StrAppend(&request, name, ": ", value, "\r\n");
    request += "\r\n";
    Write(request);
    const absl::Time deadline = absl::Now() + kTimeout;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return 0;
    }
    head_ = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    int status = 0;
    if (head_.size() >= 12) absl::SimpleAtoi(head_.substr(9, 3), &status);
    return status;
  }
  const std::string& head() const { return head_; }

  // Sends a (masked) frame.
  void SendFrame(int opcode, const std::string& payload) {
    std::string frame;
    frame += static_cast<char>(0x80 | opcode);
    const size_t n = payload.size();
    if (n < 126) {
      frame += static_cast<char>(0x80 | n);
    } else if (n < 65536) {
      frame += static_cast<char>(0x80 | 126);
      frame += static_cast<char>((n >> 8) & 0xff);
      frame += static_cast<char>(n & 0xff);
    } else {
      frame += static_cast<char>(0x80 | 127);
      for (int i = 7; i >= 0; --i) frame += static_cast<char>((uint64_t{n} >> (8 * i)) & 0xff);
    }
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    frame.append(mask, 4);
    for (size_t i = 0; i < n; ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
    Write(frame);
  }
  void SendText(const std::string& text) { SendFrame(1, text); }
  void Send(const wire::v1::WsMessage& message) { SendText(ToJson(message)); }

  // The next frame (pings are answered and skipped); nullopt on timeout or
  // when the server closed the TCP connection.
  std::optional<Frame> ReadFrame(absl::Duration timeout = kTimeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      while (buffer_.size() < 2) {
        if (!Fill(deadline)) return std::nullopt;
      }
      const auto b0 = static_cast<uint8_t>(buffer_[0]);
      const auto b1 = static_cast<uint8_t>(buffer_[1]);
      size_t header = 2;
      uint64_t len = b1 & 0x7f;
      if (len == 126) header = 4;
      if (len == 127) header = 10;
      while (buffer_.size() < header) {
        if (!Fill(deadline)) return std::nullopt;
      }
      if (header > 2) {
        len = 0;
        for (size_t i = 2; i < header; ++i) len = (len << 8) | static_cast<uint8_t>(buffer_[i]);
      }
      while (buffer_.size() < header + len) {
        if (!Fill(deadline)) return std::nullopt;
      }
      Frame frame;
      frame.opcode = b0 & 0x0f;
      frame.payload = buffer_.substr(header, len);
      buffer_.erase(0, header + len);
      if (frame.opcode == 9) {
        SendFrame(10, frame.payload);
        continue;
      }
      return frame;
    }
  }

  // The next text message as a WsMessage (type "none" on timeout, close or
  // anything else).
  wire::v1::WsMessage Read(absl::Duration timeout = kTimeout) {
    wire::v1::WsMessage message;
    std::optional<Frame> frame = ReadFrame(timeout);
    if (!frame || frame->opcode != 1 || !FromJson(frame->payload, &message).ok()) {
      message.set_type(frame && frame->opcode == 8 ? "close" : "none");
    }
    return message;
  }

  // True when the server closes the TCP connection within the timeout.
  bool WaitForEof(absl::Duration timeout = kTimeout) {
    const absl::Time deadline = absl::Now() + timeout;
    buffer_.clear();
    while (Fill(deadline)) buffer_.clear();
    return eof_;
  }

 private:
  void Write(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  // Reads what is there, waiting until `deadline`. False on timeout or EOF.
  bool Fill(absl::Time deadline) {
    for (;;) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (ready < 0) return false;
      if (ready == 0) continue;
      char buf[65536];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      buffer_.append(buf, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
  std::string head_;
};

}  // namespace callsd::server::testing

#endif  // CALLSD_TESTS_UNIT_SERVER_WS_TEST_CLIENT_H_
