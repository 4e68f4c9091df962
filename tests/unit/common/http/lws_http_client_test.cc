// LwsHttpClient against a scripted loopback server (test_http_server.h):
// what goes on the wire, responses of every framing, concurrency and the
// exactly-once, never-inline guarantee.
#include "common/http/lws_http_client.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/unit/common/http/client_test_util.h"
#include "tests/unit/common/http/test_http_server.h"

namespace callsd::testing {
namespace {

// ---------------------------------------------------------------------------
// Round trips: what the server sees, what the caller gets.

TEST(LwsHttpClientTest, GetSendsHeadersAndReturnsTheResponse) {
  auto server = NewServer([](const ReceivedRequest&) {
    return ScriptedReply::Http(200, "hello", "text/plain; charset=utf-8");
  });
  LwsHttpClientOptions options;
  options.user_agent = "callsd-test/1";
  auto client = NewClient(options);
  HttpRequest request = Request("GET", server->url("/v1/calls?state=ringing"));
  request.headers = {{"App-Id", "app-1"}, {"Session-Key", "sk-secret"}, {"X-Empty", ""}};

  auto response = SendAndWait(*client, request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->content_type, "text/plain; charset=utf-8");
  ASSERT_EQ(server->requests().size(), 1u);
  const ReceivedRequest got = server->requests()[0];
  EXPECT_EQ(got.method, "GET");
  EXPECT_EQ(got.target, "/v1/calls?state=ringing");
  EXPECT_EQ(got.Header("host"), absl::StrCat("127.0.0.1:", server->port()));
  EXPECT_EQ(got.Header("app-id"), "app-1");
  EXPECT_EQ(got.Header("session-key"), "sk-secret");
  int user_agents = 0;
  EXPECT_EQ(got.Header("user-agent", &user_agents), "callsd-test/1");
  EXPECT_EQ(user_agents, 1);
  int lengths = 0;
  got.Header("content-length", &lengths);
  EXPECT_EQ(lengths, 0) << "a GET without a body has no Content-Length";
  EXPECT_EQ(got.body, "");
}

TEST(LwsHttpClientTest, PostSendsBodyWithContentLengthNeverChunked) {
  auto server = NewServer([](const ReceivedRequest& r) {
    return ScriptedReply::Http(201, absl::StrCat("{\"echo\":", r.body.size(), "}"));
  });
  auto client = NewClient();
  const std::string body = absl::StrCat("{\"user_id\":\"alice\",\"pad\":\"", std::string(3000, 'x'),
                                        "\"}");
  HttpRequest request = Request("POST", server->url("/v1/auth"), body);
  request.headers = {{"Content-Type", "application/json"}, {"App-Id", "app-1"}};

  auto response = SendAndWait(*client, request);

  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, absl::StrCat("{\"echo\":", body.size(), "}"));
  const ReceivedRequest got = server->requests().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/v1/auth");
  EXPECT_EQ(got.body, body);
  int lengths = 0;
  EXPECT_EQ(got.Header("content-length", &lengths), absl::StrCat(body.size()));
  EXPECT_EQ(lengths, 1);
  EXPECT_EQ(got.Header("transfer-encoding"), "");
  EXPECT_EQ(got.Header("content-type"), "application/json");
}

TEST(LwsHttpClientTest, LargeBodyGoesOutInPiecesIntact) {
  auto server = NewServer(Ok);
  auto client = NewClient();
  std::string body;
  for (int i = 0; body.size() < 200 * 1024; ++i) absl::StrAppend(&body, i, ",");

  auto response = SendAndWait(*client, Request("PUT", server->url("/big"), body));

  ASSERT_TRUE(response.ok()) << response.status();
  const ReceivedRequest got = server->requests().at(0);
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.body.size(), body.size());
  EXPECT_TRUE(got.body == body);
}

TEST(LwsHttpClientTest, PostWithEmptyBodySendsContentLengthZero) {
  auto server = NewServer(Ok);
  auto client = NewClient();

  auto response = SendAndWait(*client, Request("POST", server->url("/v1/calls/c1/decline")));

  ASSERT_TRUE(response.ok()) << response.status();
  const ReceivedRequest got = server->requests().at(0);
  EXPECT_EQ(got.Header("content-length"), "0");
  EXPECT_EQ(got.body, "");
}

TEST(LwsHttpClientTest, DeleteWithAndWithoutBody) {
  auto server = NewServer([](const ReceivedRequest&) { return ScriptedReply::Http(204, ""); });
  auto client = NewClient();

  auto without = SendAndWait(*client, Request("DELETE", server->url("/v1/push/voip")));
  auto with = SendAndWait(*client, Request("DELETE", server->url("/v1/auth"), "{\"all\":true}"));

  ASSERT_TRUE(without.ok()) << without.status();
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(without->status, 204);
  EXPECT_EQ(with->status, 204);
  const auto got = server->requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "DELETE");
  EXPECT_EQ(got[0].target, "/v1/push/voip");
  EXPECT_EQ(got[0].body, "");
  EXPECT_EQ(got[1].method, "DELETE");
  EXPECT_EQ(got[1].body, "{\"all\":true}");
  EXPECT_EQ(got[1].Header("content-length"), "12");
}

TEST(LwsHttpClientTest, ErrorStatusesAndRedirectsAreResponses) {
  auto server = NewServer([](const ReceivedRequest& r) {
    if (r.target == "/404") return ScriptedReply::Http(404, "{\"error\":true}");
    if (r.target == "/500") return ScriptedReply::Http(500, "oops", "text/plain");
    ScriptedReply redirect;
    redirect.raw =
        "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    return redirect;
  });
  auto client = NewClient();

  auto not_found = SendAndWait(*client, Request("GET", server->url("/404")));
  auto failed = SendAndWait(*client, Request("POST", server->url("/500"), "x"));
  auto moved = SendAndWait(*client, Request("GET", server->url("/302")));

  ASSERT_TRUE(not_found.ok()) << not_found.status();
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(not_found->body, "{\"error\":true}");
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->body, "oops");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->status, 302);
  EXPECT_EQ(server->requests().size(), 3u) << "the redirect was not followed";
}

TEST(LwsHttpClientTest, ChunkedAndCloseDelimitedResponsesAreReassembled) {
  auto server = NewServer([](const ReceivedRequest& r) {
    ScriptedReply reply;
    if (r.target == "/chunked") {
      reply.raw =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
          "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    } else {
      reply.raw = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
    }
    return reply;
  });
  auto client = NewClient();

  auto chunked = SendAndWait(*client, Request("GET", server->url("/chunked")));
  auto delimited = SendAndWait(*client, Request("GET", server->url("/close")));

  ASSERT_TRUE(chunked.ok()) << chunked.status();
  EXPECT_EQ(chunked->body, "hello world");
  ASSERT_TRUE(delimited.ok()) << delimited.status();
  EXPECT_EQ(delimited->body, "until the end");
}

TEST(LwsHttpClientTest, CompletesWhenTheServerKeepsTheConnectionOpen) {
  // A keep-alive server that ignores "Connection: close": the response ends
  // where its framing says, not when the connection closes.
  auto server = NewServer([](const ReceivedRequest& r) {
    ScriptedReply reply;
    reply.hang = true;
    if (r.target == "/length") {
      reply.raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    } else if (r.target == "/empty") {
      reply.raw = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    } else if (r.target == "/chunked") {
      reply.raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    } else {
      reply.raw = "HTTP/1.1 204 No Content\r\n\r\n";
    }
    return reply;
  });
  auto client = NewClient();

  auto length = SendAndWait(*client, Request("GET", server->url("/length")));
  auto empty = SendAndWait(*client, Request("POST", server->url("/empty")));
  auto chunked = SendAndWait(*client, Request("GET", server->url("/chunked")));
  auto no_content = SendAndWait(*client, Request("DELETE", server->url("/no-content")));

  ASSERT_TRUE(length.ok()) << length.status();
  EXPECT_EQ(length->body, "ok");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->body, "");
  ASSERT_TRUE(chunked.ok()) << chunked.status();
  EXPECT_EQ(chunked->body, "ok");
  ASSERT_TRUE(no_content.ok()) << no_content.status();
  EXPECT_EQ(no_content->status, 204);
}

// ---------------------------------------------------------------------------
// Concurrency and the exactly-once, never-inline guarantee.

TEST(LwsHttpClientTest, ManyConcurrentRequestsEachGetTheirOwnAnswerOnce) {
  auto server = NewServer([](const ReceivedRequest& r) {
    return ScriptedReply::Http(200, absl::StrCat(r.target, "|", r.body));
  });
  LwsHttpClientOptions options;
  options.max_connections = 16;  // most requests wait for a slot
  Outcomes outcomes;
  auto client = NewClient(options);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> senders;
  std::vector<std::thread::id> sender_ids(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      sender_ids[t] = std::this_thread::get_id();
      for (int i = 0; i < kPerThread; ++i) {
        const int key = t * kPerThread + i;
        client->Send(Request("POST", server->url(absl::StrCat("/echo/", key)), absl::StrCat(key)),
                     outcomes.Expect(key));
      }
    });
  }
  for (auto& s : senders) s.join();

  ASSERT_TRUE(outcomes.WaitAll());
  const std::thread::id service_thread = outcomes.thread(0);
  for (int key = 0; key < kThreads * kPerThread; ++key) {
    auto result = outcomes.result(key);
    ASSERT_TRUE(result.ok()) << key << ": " << result.status();
    EXPECT_EQ(result->body, absl::StrCat("/echo/", key, "|", key));
    EXPECT_EQ(outcomes.thread(key), service_thread);
  }
  for (const auto& id : sender_ids) EXPECT_NE(service_thread, id);
  EXPECT_NE(service_thread, std::this_thread::get_id());
  EXPECT_EQ(outcomes.duplicates(), 0);
  EXPECT_EQ(server->requests().size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(LwsHttpClientTest, DoneNeverRunsInsideSendEvenFromTheServiceThread) {
  absl::Mutex mu;
  bool inside_send = false;
  bool nested_ran_inside = true;
  absl::Notification nested_done;
  auto server = NewServer(Ok);
  auto client = NewClient();
  client->Send(Request("GET", server->url("/first")), [&](absl::StatusOr<HttpResponse>) {
    {
      absl::MutexLock lock(&mu);
      inside_send = true;
    }
    // An invalid request fails without any I/O: the fastest possible path.
    client->Send(Request("GET", "not a url"), [&](absl::StatusOr<HttpResponse> r) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      absl::MutexLock lock(&mu);
      nested_ran_inside = inside_send;
      nested_done.Notify();
    });
    absl::MutexLock lock(&mu);
    inside_send = false;
  });

  ASSERT_TRUE(nested_done.WaitForNotificationWithTimeout(kPatience));
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(nested_ran_inside);
}

}  // namespace
}  // namespace callsd::testing
