// Reading a token: from a file or stdin, trailing whitespace stripped, clear
// errors that never contain the token.
#include "client-lib/callsctl/token.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsctl-token-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    files_.push_back(path);
    return path;
  }
  absl::StatusOr<std::string> FromFile(const std::string& path) {
    std::istringstream in("not this");
    return ReadToken(TokenSource{path, false}, in);
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(TokenFileTest, StripsTrailingNewline) {
  absl::StatusOr<std::string> token = FromFile(Write("t", "abc.def-123\n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "abc.def-123");
}

TEST_F(TokenFileTest, StripsAllTrailingWhitespaceButKeepsTheRest) {
  absl::StatusOr<std::string> token = FromFile(Write("t", "ab c\r\n \t\n\n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "ab c");
}

TEST_F(TokenFileTest, WithoutNewline) {
  absl::StatusOr<std::string> token = FromFile(Write("t", "xyz"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "xyz");
}

TEST_F(TokenFileTest, MissingFileIsNotFoundNamingThePath) {
  const std::string path = dir_ + "/nope";
  absl::StatusOr<std::string> token = FromFile(path);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(token.status().message(), HasSubstr(path));
  EXPECT_THAT(token.status().message(), HasSubstr("No such file"));
}

TEST_F(TokenFileTest, DirectoryIsAnError) {
  absl::StatusOr<std::string> token = FromFile(dir_);
  EXPECT_FALSE(token.ok());
  EXPECT_THAT(token.status().message(), HasSubstr(dir_));
}

TEST_F(TokenFileTest, UnreadableFileIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file: cannot test EACCES as root";
  const std::string path = Write("t", "secret\n");
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  EXPECT_EQ(FromFile(path).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(TokenFileTest, EmptyOrBlankFileIsInvalidArgumentNamingIt) {
  for (const char* content : {"", "\n", "  \r\n\t"}) {
    const std::string path = Write("empty", content);
    absl::StatusOr<std::string> token = FromFile(path);
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(token.status().message(), "the token in " + path + " is empty");
  }
}

TEST_F(TokenFileTest, TooLongIsRefusedWithoutEchoingIt) {
  const std::string content(kMaxTokenBytes + 10, 'k');
  absl::StatusOr<std::string> token = FromFile(Write("big", content));
  EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(token.status().message(), HasSubstr("longer than"));
  EXPECT_THAT(token.status().message(), Not(HasSubstr("kkkk")));
}

TEST(TokenStdinTest, ReadsAndStrips) {
  std::istringstream in("session-token-1\n");
  absl::StatusOr<std::string> token = ReadToken(TokenSource{"", true}, in);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "session-token-1");
}

TEST(TokenStdinTest, LongerThanOneBuffer) {
  const std::string long_token(10000, 't');
  std::istringstream in(long_token + "\n");
  absl::StatusOr<std::string> token = ReadToken(TokenSource{"", true}, in);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, long_token);
}

TEST(TokenStdinTest, EmptyIsInvalidArgument) {
  for (const char* content : {"", "\n\n", " "}) {
    std::istringstream in(content);
    absl::StatusOr<std::string> token = ReadToken(TokenSource{"", true}, in);
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(token.status().message(), "the token on standard input is empty");
  }
}

}  // namespace
}  // namespace callsd::ctl
