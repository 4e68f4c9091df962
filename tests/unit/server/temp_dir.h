// A fresh folder per test, removed at the end.
#ifndef CALLSD_TESTS_UNIT_SERVER_TEMP_DIR_H_
#define CALLSD_TESTS_UNIT_SERVER_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace callsd::server::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "calls_server_test.XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace callsd::server::testing

#endif  // CALLSD_TESTS_UNIT_SERVER_TEMP_DIR_H_
