#include "server/http/router.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

Router::Handler Answer(int status) {
  return [status](const HttpRequest&, const PathParams&) {
    HttpResponse r;
    r.http_status = status;
    return r;
  };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.Add("GET", "/v1/users/{user_id}", Answer(1));
    router_.Add("DELETE", "/v1/users/{user_id}", Answer(2));
    router_.Add("GET", "/v1/users/{user_id}/push", Answer(3));
    router_.Add("DELETE", "/v1/push/{type}/{token...}", Answer(4));
    router_.Add("POST", "/v1/users", Answer(5));
  }
  int Call(const Router::Match& match) { return (*match.handler)(HttpRequest(), match.params).http_status; }

  Router router_;
};

TEST_F(RouterTest, LiteralAndCapture) {
  Router::Match m = router_.Find("GET", "/v1/users/alice");
  ASSERT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(Call(m), 1);
  EXPECT_THAT(m.params, UnorderedElementsAre(Pair("user_id", "alice")));
  EXPECT_EQ(m.pattern, "/v1/users/{user_id}");

  m = router_.Find("DELETE", "/v1/users/bob");
  ASSERT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(Call(m), 2);

  m = router_.Find("GET", "/v1/users/alice/push");
  ASSERT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(Call(m), 3);

  m = router_.Find("POST", "/v1/users");
  ASSERT_EQ(m.kind, Router::Match::kFound);
  EXPECT_THAT(m.params, IsEmpty());
}

TEST_F(RouterTest, RestCaptureTakesSlashes) {
  Router::Match m = router_.Find("DELETE", "/v1/push/voip/https:/push.example/a/b?c");
  ASSERT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(Call(m), 4);
  EXPECT_THAT(m.params, UnorderedElementsAre(Pair("type", "voip"),
                                             Pair("token", "https:/push.example/a/b?c")));
  m = router_.Find("DELETE", "/v1/push/voip/x");
  EXPECT_THAT(m.params, UnorderedElementsAre(Pair("type", "voip"), Pair("token", "x")));
}

TEST_F(RouterTest, EmptySegmentsDoNotMatchCaptures) {
  EXPECT_EQ(router_.Find("GET", "/v1/users/").kind, Router::Match::kNotFound);
  EXPECT_EQ(router_.Find("DELETE", "/v1/push/voip/").kind, Router::Match::kNotFound);
}

TEST_F(RouterTest, RestCaptureKeepsEmptySegments) {
  Router::Match m = router_.Find("DELETE", "/v1/push/voip/https://push.example/");
  ASSERT_EQ(m.kind, Router::Match::kFound);
  EXPECT_EQ(m.params["token"], "https://push.example/");
}

TEST_F(RouterTest, NotFound) {
  for (const char* path : {"", "/", "/v1", "/v1/users/a/b", "/v1/users/a/push/x", "/v2/users"}) {
    Router::Match m = router_.Find("GET", path);
    EXPECT_EQ(m.kind, Router::Match::kNotFound) << path;
    EXPECT_EQ(m.pattern, "") << path;
  }
}

TEST_F(RouterTest, MethodNotAllowedListsAllowed) {
  Router::Match m = router_.Find("PUT", "/v1/users/alice");
  EXPECT_EQ(m.kind, Router::Match::kMethodNotAllowed);
  EXPECT_THAT(m.allowed, ElementsAre("GET", "DELETE"));
  EXPECT_EQ(m.pattern, "/v1/users/{user_id}");
  EXPECT_EQ(m.handler, nullptr);
  m = router_.Find("get", "/v1/users/alice");  // methods are case-sensitive
  EXPECT_EQ(m.kind, Router::Match::kMethodNotAllowed);
}

}  // namespace
}  // namespace callsd::server
