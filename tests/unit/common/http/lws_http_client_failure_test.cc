// LwsHttpClient's failures against a scripted loopback server: timeouts,
// refused and broken connections, limits, shutdown, insecure http, malformed
// requests, and TLS verification (certificates made with the openssl CLI).
#include "common/http/lws_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/common/http/client_test_util.h"
#include "tests/unit/common/http/test_http_server.h"

namespace callsd::testing {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// Failures.

TEST(LwsHttpClientTest, TimeoutAgainstAServerThatNeverAnswers) {
  auto server = NewServer([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.hang = true;
    return reply;
  });
  auto client = NewClient();
  HttpRequest request = Request("POST", server->url("/slow"), "{}");
  request.timeout = absl::Milliseconds(300);

  const absl::Time start = absl::Now();
  auto response = SendAndWait(*client, request);
  const absl::Duration took = absl::Now() - start;

  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("300ms"));
  EXPECT_GE(took, absl::Milliseconds(290));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(LwsHttpClientTest, TimeoutsRunWhileWaitingForAConnectionAndFreeTheSlot) {
  auto server = NewServer([](const ReceivedRequest& r) {
    if (r.target == "/ok") return ScriptedReply::Http(200, "ok");
    ScriptedReply reply;
    reply.hang = true;
    return reply;
  });
  Outcomes outcomes;  // outlives the client, which completes what is left
  LwsHttpClientOptions options;
  options.max_connections = 1;
  auto client = NewClient(options);
  HttpRequest hang = Request("GET", server->url("/hang"));
  hang.timeout = absl::Milliseconds(300);
  HttpRequest ok = Request("GET", server->url("/ok"));

  // The second waits for the first's slot, which its timeout frees.
  client->Send(hang, outcomes.Expect(0));
  client->Send(ok, outcomes.Expect(1));
  ASSERT_TRUE(outcomes.WaitAll());
  EXPECT_EQ(outcomes.result(0).status().code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(outcomes.result(1).ok()) << outcomes.result(1).status();
  EXPECT_EQ(outcomes.result(1)->body, "ok");

  // A request that never gets a slot times out all the same.
  hang.timeout = absl::Minutes(10);
  ok.timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  client->Send(hang, outcomes.Expect(2));
  client->Send(ok, outcomes.Expect(3));
  ASSERT_TRUE(outcomes.WaitFor(3));
  EXPECT_TRUE(server->WaitForRequests(3, kPatience));
  EXPECT_EQ(outcomes.result(3).status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(server->requests().size(), 3u) << "the queued request was never sent";
}

TEST(LwsHttpClientTest, ConnectionRefused) {
  // A port that was just bound and released: nobody listens there.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  auto client = NewClient();

  auto response = SendAndWait(
      *client, Request("GET", absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/")));

  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("connection to 127.0.0.1"));
}

TEST(LwsHttpClientTest, ServerClosingMidBodyIsUnavailable) {
  auto server = NewServer([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
    return reply;
  });
  auto client = NewClient();

  auto response = SendAndWait(*client, Request("GET", server->url("/truncated")));

  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("closed before a complete response"));
}

TEST(LwsHttpClientTest, ServerClosingWithoutAnswerIsUnavailable) {
  auto server = NewServer([](const ReceivedRequest&) { return ScriptedReply(); });
  auto client = NewClient();

  auto response = SendAndWait(*client, Request("POST", server->url("/v1/auth"), "{}"));

  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

TEST(LwsHttpClientTest, ResponsesOverTheLimitAreUnavailable) {
  auto server = NewServer([](const ReceivedRequest& r) {
    if (r.target == "/declared") return ScriptedReply::Http(200, std::string(5000, 'a'));
    ScriptedReply reply;  // chunked: the size shows only while reading
    reply.raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) absl::StrAppend(&reply.raw, "3e8\r\n", std::string(1000, 'b'), "\r\n");
    absl::StrAppend(&reply.raw, "0\r\n\r\n");
    return reply;
  });
  LwsHttpClientOptions options;
  options.max_response_bytes = 1000;
  auto client = NewClient(options);

  auto declared = SendAndWait(*client, Request("GET", server->url("/declared")));
  auto streamed = SendAndWait(*client, Request("GET", server->url("/streamed")));

  EXPECT_EQ(declared.status().code(), absl::StatusCode::kUnavailable) << declared.status();
  EXPECT_THAT(std::string(declared.status().message()), HasSubstr("larger than the limit of 1000 bytes"));
  EXPECT_EQ(streamed.status().code(), absl::StatusCode::kUnavailable) << streamed.status();
  EXPECT_THAT(std::string(streamed.status().message()), HasSubstr("larger than the limit of 1000 bytes"));
}

TEST(LwsHttpClientTest, DestroyingTheClientCompletesEveryRequestInFlight) {
  auto server = NewServer([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.hang = true;
    return reply;
  });
  LwsHttpClientOptions options;
  options.max_connections = 2;  // 2 connected and hanging, 3 waiting for a slot
  Outcomes outcomes;
  auto client = NewClient(options);
  for (int i = 0; i < 5; ++i) {
    HttpRequest request = Request("POST", server->url("/hang"), "{}");
    request.timeout = absl::Minutes(10);
    client->Send(std::move(request), outcomes.Expect(i));
  }
  ASSERT_TRUE(server->WaitForRequests(2, kPatience));

  const absl::Time start = absl::Now();
  client.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  ASSERT_TRUE(outcomes.WaitAll(absl::ZeroDuration())) << "all ran before the destructor returned";
  for (int i = 0; i < 5; ++i) {
    auto result = outcomes.result(i);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("shutting down"));
  }
  EXPECT_EQ(outcomes.duplicates(), 0);
}

TEST(LwsHttpClientTest, PlainHttpToANonLoopbackHostIsRefusedWithoutContactingIt) {
  auto client = NewClient();
  // Were it contacted, the first would fail on DNS and the second time out.
  auto named = SendAndWait(*client, Request("GET", "http://calls.example.invalid/v1/auth"));
  auto address = SendAndWait(*client, Request("GET", "http://192.0.2.1:8080/v1/auth"));

  EXPECT_EQ(named.status().code(), absl::StatusCode::kInvalidArgument) << named.status();
  EXPECT_THAT(std::string(named.status().message()), HasSubstr("plain http to calls.example.invalid"));
  EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument) << address.status();
}

TEST(LwsHttpClientTest, AllowInsecureHttpLetsPlainHttpThrough) {
  LwsHttpClientOptions options;
  options.allow_insecure_http = true;
  auto client = NewClient(options);
  HttpRequest request = Request("GET", "http://calls.example.invalid/");
  request.timeout = absl::Seconds(5);

  auto response = SendAndWait(*client, request);

  // It was contacted (so it failed on DNS, or on the deadline if the
  // resolver does not answer): not refused up front.
  EXPECT_NE(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
  EXPECT_FALSE(response.ok());
  if (response.status().code() == absl::StatusCode::kUnavailable) {
    EXPECT_THAT(std::string(response.status().message()), HasSubstr("DNS lookup of calls.example.invalid"));
  }
}

TEST(LwsHttpClientTest, MalformedRequestsFailAsInvalidArgument) {
  auto server = NewServer(Ok);
  auto client = NewClient();
  std::vector<HttpRequest> bad;
  bad.push_back(Request("PATCH", server->url("/")));
  bad.push_back(Request("GET", "ftp://127.0.0.1/"));
  bad.push_back(Request("GET", "ws://127.0.0.1/"));
  bad.push_back(Request("GET", "127.0.0.1/no-scheme"));
  HttpRequest injected = Request("GET", server->url("/"));
  injected.headers = {{"X-Token", "a\r\nEvil: 1"}};
  bad.push_back(injected);
  HttpRequest reserved = Request("GET", server->url("/"));
  reserved.headers = {{"Content-Length", "5"}};
  bad.push_back(reserved);
  HttpRequest no_timeout = Request("GET", server->url("/"));
  no_timeout.timeout = absl::ZeroDuration();
  bad.push_back(no_timeout);

  for (const HttpRequest& request : bad) {
    auto response = SendAndWait(*client, request);
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument)
        << request.method << " " << request.url << ": " << response.status();
    EXPECT_THAT(std::string(response.status().message()), ::testing::Not(HasSubstr("Evil")));
  }
  EXPECT_TRUE(server->requests().empty());
}

// ---------------------------------------------------------------------------
// TLS.

class LwsHttpClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tls = MakeSelfSignedCert(dir_.path(), "localhost", "DNS:localhost,IP:127.0.0.1");
    ASSERT_TRUE(tls.ok()) << tls.status();
    tls_ = *tls;
    server_ = NewServer(
        [](const ReceivedRequest& r) { return ScriptedReply::Http(200, "secure " + r.body); },
        &tls_);
  }

  TempDir dir_;
  TestHttpServer::Tls tls_;
  std::unique_ptr<TestHttpServer> server_;
};

TEST_F(LwsHttpClientTlsTest, SelfSignedCertificateIsRejected) {
  auto client = NewClient();

  auto response = SendAndWait(*client, Request("POST", server_->url("/v1/auth"), "{}"));

  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("certificate"));
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(LwsHttpClientTlsTest, CaFileMakesItTrusted) {
  LwsHttpClientOptions options;
  options.ca_file = tls_.cert_file;
  auto client = NewClient(options);

  auto by_address = SendAndWait(*client, Request("POST", server_->url("/v1/auth"), "{}"));
  auto by_name = SendAndWait(
      *client, Request("POST", absl::StrCat("https://localhost:", server_->port(), "/x"), "hi"));

  ASSERT_TRUE(by_address.ok()) << by_address.status();
  EXPECT_EQ(by_address->body, "secure {}");
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_EQ(by_name->body, "secure hi");
}

TEST_F(LwsHttpClientTlsTest, TrustedCertificateForAnotherNameIsRejected) {
  auto other = MakeSelfSignedCert(dir_.path(), "other", "DNS:other.example");
  ASSERT_TRUE(other.ok()) << other.status();
  auto server = NewServer(Ok, &*other);
  LwsHttpClientOptions options;
  options.ca_file = other->cert_file;
  auto client = NewClient(options);

  auto response = SendAndWait(*client, Request("GET", server->url("/")));

  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("certificate"));
}

TEST_F(LwsHttpClientTlsTest, VerificationCanBeTurnedOffExplicitly) {
  LwsHttpClientOptions options;
  options.verify_certificates = false;
  auto client = NewClient(options);

  auto response = SendAndWait(*client, Request("GET", server_->url("/")));

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

TEST(LwsHttpClientCreateTest, UnusableCaFileIsInvalidArgument) {
  TempDir dir;
  const std::string garbage = dir.path() + "/garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";
  LwsHttpClientOptions missing;
  missing.ca_file = dir.path() + "/missing.pem";
  LwsHttpClientOptions unusable;
  unusable.ca_file = garbage;

  EXPECT_EQ(LwsHttpClient::Create(missing).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LwsHttpClient::Create(unusable).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace callsd::testing
