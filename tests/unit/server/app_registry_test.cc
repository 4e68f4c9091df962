#include "server/app_registry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::server {
namespace {

TEST(AppRegistryTest, FindsAppByToken) {
  AppRegistry apps;
  ASSERT_TRUE(apps.Add("app-1", "token-one-0123456789").ok());
  ASSERT_TRUE(apps.Add("app.2_x", "token-two-0123456789").ok());
  EXPECT_EQ(apps.FindByToken("token-one-0123456789"), "app-1");
  EXPECT_EQ(apps.FindByToken("token-two-0123456789"), "app.2_x");
  EXPECT_EQ(apps.FindByToken("token-two-012345678"), std::nullopt);
  EXPECT_EQ(apps.FindByToken(""), std::nullopt);
  EXPECT_TRUE(apps.Contains("app-1"));
  EXPECT_FALSE(apps.Contains("app-3"));
  EXPECT_THAT(apps.ids(), ::testing::ElementsAre("app-1", "app.2_x"));
}

TEST(AppRegistryTest, RejectsBadAndDuplicateApps) {
  AppRegistry apps;
  ASSERT_TRUE(apps.Add("a", "token-0123456789").ok());
  EXPECT_EQ(apps.Add("a", "other-0123456789").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(apps.Add("b", "token-0123456789").message(),
            "app b has the same master token as app a");
  EXPECT_EQ(apps.Add("", "t").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(apps.Add("a b", "t").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(apps.Add(std::string(129, 'a'), "t").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(apps.Add("c", "").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace callsd::server
