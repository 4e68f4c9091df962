#include "server/http/validation.h"

#include "common/calls_error.h"
#include "gtest/gtest.h"

namespace callsd::server {
namespace {

TEST(IsPrintableUtf8Test, AcceptsText) {
  EXPECT_TRUE(IsPrintableUtf8(""));
  EXPECT_TRUE(IsPrintableUtf8("alice"));
  EXPECT_TRUE(IsPrintableUtf8("Zoë"));
  EXPECT_TRUE(IsPrintableUtf8("名前"));
  EXPECT_TRUE(IsPrintableUtf8("\xf0\x9f\x93\x9e"));  // U+1F4DE
  EXPECT_TRUE(IsPrintableUtf8("\xc2\xa0"));          // U+00A0, after the C1 block
}

TEST(IsPrintableUtf8Test, RejectsControlsAndBadUtf8) {
  EXPECT_FALSE(IsPrintableUtf8(std::string("a\0b", 3)));
  EXPECT_FALSE(IsPrintableUtf8("a\nb"));
  EXPECT_FALSE(IsPrintableUtf8("\x7f"));
  EXPECT_FALSE(IsPrintableUtf8("\xc2\x80"));          // C1
  EXPECT_FALSE(IsPrintableUtf8("\xc2\x9f"));          // C1
  EXPECT_FALSE(IsPrintableUtf8("\xff"));
  EXPECT_FALSE(IsPrintableUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsPrintableUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsPrintableUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsPrintableUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsPrintableUtf8("\x80"));              // stray continuation
}

TEST(ValidateUserIdTest, Codes) {
  EXPECT_TRUE(ValidateUserId("user_id", "a").ok());
  EXPECT_TRUE(ValidateUserId("user_id", ".a").ok());
  EXPECT_EQ(GetCallsCode(ValidateUserId("user_id", "")), kCodeMissingParams);
  EXPECT_EQ(GetCallsCode(ValidateUserId("user_id", ".")), kCodeInvalidParams);
  EXPECT_EQ(ValidateUserId("callee", "a/b").message(),
            "callee: must not contain '/' nor be \".\" or \"..\"");
}

TEST(ValidatePushTokenTest, AcceptsUrlsThatSurviveAPath) {
  for (const char* token :
       {"https://push.example/x", "http://127.0.0.1:8080/up?token=abc&x=1",
        "https://ntfy.sh/upAbCdEf?up=1", "HTTPS://Push.Example/x", "https://push.example",
        "https://push.example/a/.well-known/b", "https://push.example/a%2Fb"}) {
    EXPECT_TRUE(ValidatePushToken(token).ok()) << token << ": " << ValidatePushToken(token);
  }
}

TEST(ValidatePushTokenTest, Rejects) {
  for (const char* token :
       {"https://push.example/a//b", "https://push.example/./b", "https://push.example/a/..",
        "https://push.example/a/.", "https://push.example/?next=//x", "mailto:a@b",
        "https://", "https:///x", "https://push.example/\t"}) {
    absl::Status status = ValidatePushToken(token);
    EXPECT_EQ(GetCallsCode(status), kCodeInvalidParams) << token;
    if (std::string(token).size() > 12) {
      EXPECT_EQ(status.message().find(token), absl::string_view::npos)
          << "messages never repeat the token: " << status;
    }
  }
}

TEST(RestorePathDecodedPushTokenTest, PutsBackTheSchemeSlash) {
  EXPECT_EQ(RestorePathDecodedPushToken("https:/push.example/a"), "https://push.example/a");
  EXPECT_EQ(RestorePathDecodedPushToken("http:/push.example"), "http://push.example");
  EXPECT_EQ(RestorePathDecodedPushToken("HTTPS:/x"), "HTTPS://x");
  EXPECT_EQ(RestorePathDecodedPushToken("https://push.example/a"), "https://push.example/a");
  EXPECT_EQ(RestorePathDecodedPushToken("opaque-token"), "opaque-token");
  EXPECT_EQ(RestorePathDecodedPushToken("https:"), "https:");
}

}  // namespace
}  // namespace callsd::server
