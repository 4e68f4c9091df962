// The crash-point test hook (common/fault_point.h): parsing its two
// environment values, counting steps, and the SIGKILL at the chosen one.
#include "common/fault_point.h"

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class FaultPointTest : public ::testing::Test {
 protected:
  void TearDown() override {
    SetFaultPointsForTest(std::nullopt);
    std::remove(steps_file_.c_str());
  }
  const std::string steps_file_ = ::testing::TempDir() + "/fault_point_steps";
};

TEST_F(FaultPointTest, UnsetOrEmptyVariablesLeaveTheHookOff) {
  auto none = ParseFaultPointConfig(nullptr, nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto empty = ParseFaultPointConfig("", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST_F(FaultPointTest, BadStepNumbersAreRefusedNamingTheVariable) {
  for (const char* bad : {"0", "-3", "abc", "12x"}) {
    auto config = ParseFaultPointConfig(bad, nullptr);
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_THAT(config.status().message(), HasSubstr("CALLSD_TEST_CRASH_AT_STEP")) << bad;
    EXPECT_THAT(config.status().message(), HasSubstr(bad));
  }
}

TEST_F(FaultPointTest, ParsesTheStepAndTheFile) {
  auto config = ParseFaultPointConfig("7", "/tmp/steps");
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(config->has_value());
  EXPECT_EQ((*config)->crash_at_step, 7);
  EXPECT_EQ((*config)->steps_file, "/tmp/steps");
  auto count_only = ParseFaultPointConfig(nullptr, "/tmp/steps");
  ASSERT_TRUE(count_only.ok() && count_only->has_value());
  EXPECT_FALSE((*count_only)->crash_at_step.has_value());
}

TEST_F(FaultPointTest, OffCountsNothing) {
  SetFaultPointsForTest(std::nullopt);
  FaultPoint("a");
  EXPECT_EQ(FaultPointSteps(), 0);
}

TEST_F(FaultPointTest, CountsStepsAndWritesTheLastOne) {
  SetFaultPointsForTest(FaultPointConfig{std::nullopt, steps_file_});
  FaultPoint("first");
  FaultPoint("second");
  FaultPoint("third");
  EXPECT_EQ(FaultPointSteps(), 3);
  EXPECT_EQ(ReadAll(steps_file_), "3 third\n");
  // Turning it on again starts from zero.
  SetFaultPointsForTest(FaultPointConfig{std::nullopt, steps_file_});
  FaultPoint("again");
  EXPECT_EQ(FaultPointSteps(), 1);
  EXPECT_EQ(ReadAll(steps_file_), "1 again\n");
}

TEST_F(FaultPointTest, KillsAtTheChosenStepAndNotBefore) {
  EXPECT_EXIT(
      {
        SetFaultPointsForTest(FaultPointConfig{3, steps_file_});
        FaultPoint("one");
        FaultPoint("two");
        std::fprintf(stderr, "alive after two steps\n");
        FaultPoint("three");
        std::fprintf(stderr, "alive after three steps\n");
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "alive after two steps\n.*SIGKILL at step 3 \\(three\\)");
  EXPECT_EQ(ReadAll(steps_file_), "3 three\n") << "the step is recorded before the kill";
}

}  // namespace
}  // namespace callsd
