// Random ids and tokens: the shapes other code relies on.
#include "common/crypto.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace callsd {
namespace {

// Ids are typed on command lines (`callsctl accept CALL_ID`): one starting
// with '-' would read as an option. RandomToken starts with '-' or '_' one
// time in 32, so 2000 draws would all but surely show it.
TEST(RandomIdTest, StartsWithALetterOrDigitAndIsUrlSafeAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = RandomId(12);
    ASSERT_EQ(id.size(), 16u) << id;
    EXPECT_TRUE(absl::ascii_isalnum(static_cast<unsigned char>(id[0]))) << id;
    std::string raw;
    EXPECT_TRUE(absl::WebSafeBase64Unescape(id, &raw)) << id;
    EXPECT_EQ(raw.size(), 12u);
    EXPECT_TRUE(seen.insert(id).second) << "repeated: " << id;
  }
}

TEST(RandomTokenTest, HasTheRequestedEntropyAndDiffers) {
  std::string a, b;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(RandomToken(32), &a));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(RandomToken(32), &b));
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace callsd
