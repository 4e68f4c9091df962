// The HTTP client's pure helpers: request checks, Host header, log-safe
// paths, and the wording of connection failures.
#include "common/http/http_util.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

TEST(CheckRequestTest, AcceptsHttpsAnywhereAndHttpToLoopback) {
  Url url;
  EXPECT_TRUE(CheckRequest(Get("https://calls.example.com/prefix/v1/auth"), false, &url).ok());
  EXPECT_EQ(url.host, "calls.example.com");
  EXPECT_EQ(url.path, "/prefix/v1/auth");
  EXPECT_TRUE(CheckRequest(Get("http://127.0.0.1:8080/v1/auth"), false, &url).ok());
  EXPECT_TRUE(CheckRequest(Get("http://localhost:8080/"), false, &url).ok());
  EXPECT_TRUE(CheckRequest(Get("http://[::1]:8080/"), false, &url).ok());
}

TEST(CheckRequestTest, PlainHttpElsewhereNeedsTheOption) {
  Url url;
  absl::Status refused = CheckRequest(Get("http://calls.example.com/"), false, &url);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("plain http to calls.example.com"));
  EXPECT_TRUE(CheckRequest(Get("http://calls.example.com/"), true, &url).ok());
}

TEST(CheckRequestTest, RejectsBadMethodsHeadersAndTimeouts) {
  Url url;
  HttpRequest request = Get("https://h/");
  request.method = "get";
  EXPECT_EQ(CheckRequest(request, false, &url).code(), absl::StatusCode::kInvalidArgument);

  request = Get("https://h/");
  request.headers = {{"Bad Name", "v"}};
  EXPECT_EQ(CheckRequest(request, false, &url).code(), absl::StatusCode::kInvalidArgument);

  request.headers = {{"host", "evil"}};
  EXPECT_EQ(CheckRequest(request, false, &url).code(), absl::StatusCode::kInvalidArgument);

  request.headers = {{"Session-Key", "secret\nX: y"}};
  absl::Status status = CheckRequest(request, false, &url);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), Not(HasSubstr("secret")));

  request.headers = {{"X-Big", std::string(kMaxRequestHeaderBytes, 'v')}};
  EXPECT_EQ(CheckRequest(request, false, &url).code(), absl::StatusCode::kInvalidArgument);

  request = Get("https://h/");
  request.timeout = absl::Hours(2);
  EXPECT_EQ(CheckRequest(request, false, &url).code(), absl::StatusCode::kInvalidArgument);
  request.timeout = -absl::Seconds(1);
  EXPECT_EQ(CheckRequest(request, false, &url).code(), absl::StatusCode::kInvalidArgument);
}

TEST(HostHeaderTest, PortOnlyWhenNotTheDefault) {
  Url url = *ParseUrl("https://calls.example.com/x");
  EXPECT_EQ(HostHeader(url), "calls.example.com");
  url = *ParseUrl("http://127.0.0.1:8080/x");
  EXPECT_EQ(HostHeader(url), "127.0.0.1:8080");
  url = *ParseUrl("http://[::1]:8080/x");
  EXPECT_EQ(HostHeader(url), "[::1]:8080");
}

TEST(LoggablePathTest, DropsQueryAndLongSegments) {
  EXPECT_EQ(LoggablePath("/v1/calls?state=ringing&token=abc"), "/v1/calls");
  EXPECT_EQ(LoggablePath("/v1/push/voip/https%3A%2F%2Fpush.example%2Fendpoint%2Fabcdef"),
            "/v1/push/voip/<46 bytes>");
  EXPECT_EQ(LoggablePath("/"), "/");
}

TEST(ConnectionFailureTest, SaysWhatFailed) {
  const Url url = *ParseUrl("https://calls.example.com/");
  EXPECT_THAT(ConnectionFailure(url, "getaddrinfo (ipv4) failed").message(),
              HasSubstr("DNS lookup of calls.example.com failed"));
  EXPECT_THAT(ConnectionFailure(url, "ssl: server's cert didn't look good, X509_V_ERR = 18")
                  .message(),
              HasSubstr("TLS certificate verification of calls.example.com:443 failed"));
  EXPECT_THAT(ConnectionFailure(url, "lws_ssl_client_connect2 failed").message(),
              HasSubstr("TLS handshake with calls.example.com:443 failed"));
  EXPECT_THAT(ConnectionFailure(url, "connect failed").message(),
              HasSubstr("connection to calls.example.com:443 failed (connect failed)"));
  EXPECT_EQ(ConnectionFailure(url, "").code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace callsd
