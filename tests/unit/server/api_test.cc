// What every endpoint of the Api shares: routing, methods, body size.
#include "common/calls_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/server/api_test_base.h"

namespace callsd::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST_F(ApiTest, UnknownRouteIs404) {
  for (const char* path : {"/", "/v1", "/v2/users", "/v1/users/alice/nope", "/v1/users/",
                           "/v1/push/voip/", "/v1/rooms/r/x"}) {
    HttpResponse r = Admin("GET", path);
    EXPECT_EQ(r.http_status, 404) << path;
    EXPECT_EQ(r.body, Error(kCodeNotFound, "no such endpoint")) << path;
    EXPECT_TRUE(r.headers.empty());
  }
}

TEST_F(ApiTest, WrongMethodIs405WithAllow) {
  HttpResponse r = Admin("PUT", "/v1/users/alice");
  EXPECT_EQ(r.http_status, 405);
  EXPECT_EQ(r.body, Error(kCodeInvalidParams,
                          "method PUT is not allowed here; allowed: GET, DELETE"));
  EXPECT_THAT(r.headers, ElementsAre(Pair("allow", "GET, DELETE")));
  r = Client("GET", "/v1/auth");
  EXPECT_EQ(r.http_status, 405);
  EXPECT_THAT(r.headers, ElementsAre(Pair("allow", "POST, DELETE")));
  r = Client("GET", "/v1/push/voip/https:/x");
  EXPECT_THAT(r.headers, ElementsAre(Pair("allow", "DELETE")));
}

TEST_F(ApiTest, BodyOverOneMebibyteIs413) {
  HttpResponse r = Admin("POST", "/v1/users", std::string(kMaxJsonBytes + 1, ' '));
  EXPECT_EQ(r.http_status, 413);
  EXPECT_EQ(r.body, Error(kCodeInvalidParams,
                          "request body of 1048577 bytes is over the limit of 1048576 bytes"));
  // Exactly at the limit is read (and here found to lack user_id).
  r = Admin("POST", "/v1/users", std::string(kMaxJsonBytes, ' '));
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeMissingParams, "user_id is required"));
}

}  // namespace
}  // namespace callsd::server::testing
