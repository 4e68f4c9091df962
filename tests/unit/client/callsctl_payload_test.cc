// Reading a push payload for `callsctl push deliver`: the size bound, the
// trailing whitespace, and messages that never contain the payload.
#include "client-lib/callsctl/payload.h"

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ReadPushPayloadTest, PassesTheBytesOnAndDropsTrailingWhitespace) {
  std::istringstream in("{\"v\":1, \"caller\": {\"user_id\": \"a b\"}}\r\n \t\n");
  absl::StatusOr<std::string> payload = ReadPushPayload(in);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, "{\"v\":1, \"caller\": {\"user_id\": \"a b\"}}");
}

TEST(ReadPushPayloadTest, LeadingWhitespaceAndBinaryBytesAreKept) {
  const std::string data = std::string("  {\"x\":\"\0\xff\"}", 12);
  std::istringstream in(data);
  absl::StatusOr<std::string> payload = ReadPushPayload(in);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, data);
}

TEST(ReadPushPayloadTest, TheLimitIsThePayloadPlusAMargin) {
  EXPECT_EQ(kMaxPushPayloadBytes, 4096u);
  EXPECT_GT(kMaxPushInputBytes, kMaxPushPayloadBytes);

  std::istringstream exact(std::string(kMaxPushInputBytes, 'a'));
  absl::StatusOr<std::string> payload = ReadPushPayload(exact);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(payload->size(), kMaxPushInputBytes);

  // Trailing whitespace counts: the bound is on what is read.
  std::istringstream padded(std::string(kMaxPushInputBytes, 'a') + "\n");
  EXPECT_EQ(ReadPushPayload(padded).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReadPushPayloadTest, OversizedIsRefusedWithoutReadingItAllOrEchoingIt) {
  const std::string data = "PAYLOAD-MARKER" + std::string(1 << 20, 'z');
  std::istringstream in(data);
  absl::StatusOr<std::string> payload = ReadPushPayload(in);
  ASSERT_FALSE(payload.ok());
  EXPECT_EQ(payload.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(payload.status().message(), HasSubstr("longer than 5120 bytes"));
  EXPECT_THAT(payload.status().message(), HasSubstr("at most 4096 bytes"));
  EXPECT_THAT(payload.status().message(), Not(HasSubstr("PAYLOAD-MARKER")));
  EXPECT_THAT(payload.status().message(), Not(HasSubstr("zzz")));
  // Stopped one byte past the limit: the rest is still unread.
  EXPECT_EQ(static_cast<size_t>(in.tellg()), kMaxPushInputBytes + 1);
}

TEST(ReadPushPayloadTest, EmptyOrBlankIsRefused) {
  for (const char* text : {"", "\n", " \t\r\n"}) {
    std::istringstream in(text);
    absl::StatusOr<std::string> payload = ReadPushPayload(in);
    EXPECT_EQ(payload.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(payload.status().message(), HasSubstr("empty"));
  }
}

}  // namespace
}  // namespace callsd::ctl
