// PushSender with a fake HttpClient on simulated time and a real Store:
// what goes to which endpoint, signed how, and what each answer does.
#include "server/push/push_sender.h"

#include <memory>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/push_signing.h"
#include "common/testing/simulated_scheduler.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/server/call_fakes.h"
#include "tests/unit/server/temp_dir.h"

namespace callsd::server::testing {
namespace {

using ::testing::ElementsAre;

constexpr char kVoip1[] = "https://push.example/voip-1";
constexpr char kVoip2[] = "http://127.0.0.1:9/voip-2";
constexpr char kRemote[] = "https://push.example/remote";

class PushSenderTest : public ::testing::Test {
 protected:
  PushSenderTest() {
    auto store = Store::Open(dir_.File("calls.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto bob = store_->CreateUser("app", "bob", "Bob", RandomBytes(32), "", 1);
    EXPECT_TRUE(bob.ok());
    bob_ = *bob;
    for (const auto& [type, token] :
         {std::pair{PushType::kVoip, kVoip1}, std::pair{PushType::kRemote, kRemote},
          std::pair{PushType::kVoip, kVoip2}}) {
      EXPECT_TRUE(store_->RegisterPushToken(bob_, type, token, false, 20, 1).ok());
    }
    sender_ = std::make_unique<PushSender>(store_.get(), &http_, &scheduler_);
  }

  static PushJob Job(const std::string& type = "call.ringing",
                     PushType token_type = PushType::kVoip) {
    PushJob job;
    job.app_id = "app";
    job.user_id = "bob";
    job.token_type = token_type;
    job.type = type;
    job.call_id = "call-1";
    job.caller_id = "alice";
    job.caller_nickname = "Alice";
    job.video = true;
    job.ttl_s = type == "call.ringing" ? 45 : 60;
    if (type != "call.ringing") job.end_result = "canceled";
    return job;
  }

  void Push(PushJob job) {
    sender_->Push(std::move(job), [this] { ++delivered_; });
    scheduler_.RunUntilIdle();
  }
  // Answers request i with an HTTP status, then runs what that posted.
  void Reply(size_t i, int status) {
    http_.Reply(i, status);
    scheduler_.RunUntilIdle();
  }
  void Fail(size_t i, absl::Status status) {
    http_.Answer(i, status);
    scheduler_.RunUntilIdle();
  }
  std::vector<std::string> Tokens() {
    std::vector<std::string> out;
    const auto tokens = store_->ListPushTokens(bob_.rowid);
    EXPECT_TRUE(tokens.ok());
    for (const auto& t : *tokens) {
      out.push_back(std::string(PushTypeName(t.type)) + " " + t.token);
    }
    return out;
  }

  TempDir dir_;
  callsd::testing::SimulatedScheduler scheduler_;
  FakeHttpClient http_;
  std::unique_ptr<Store> store_;
  UserRecord bob_;
  std::unique_ptr<PushSender> sender_;
  int delivered_ = 0;
};

TEST_F(PushSenderTest, RingingGoesSignedToEveryVoipToken) {
  Push(Job());
  ASSERT_EQ(http_.sent(), 2u);
  EXPECT_EQ(http_.request(0).url, kVoip1);
  EXPECT_EQ(http_.request(1).url, kVoip2);
  for (size_t i = 0; i < 2; ++i) {
    const ::callsd::HttpRequest request = http_.request(i);
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(HeaderOf(request, "Content-Type"), "application/json");
    EXPECT_EQ(HeaderOf(request, "TTL"), "45");
    EXPECT_EQ(HeaderOf(request, "Urgency"), "high");
    EXPECT_EQ(request.timeout, absl::Seconds(5));
    EXPECT_LE(request.body.size(), kMaxPushPayloadBytes);

    wire::v1::PushPayload payload;
    ASSERT_TRUE(FromJson(request.body, &payload).ok()) << request.body;
    EXPECT_TRUE(VerifyPushSignature(payload, bob_.push_key).ok());
    EXPECT_FALSE(VerifyPushSignature(payload, RandomBytes(32)).ok());
    EXPECT_EQ(payload.v(), 1);
    EXPECT_EQ(payload.app_id(), "app");
    EXPECT_EQ(payload.user_id(), "bob");
    EXPECT_EQ(payload.type(), "call.ringing");
    EXPECT_EQ(payload.call_id(), "call-1");
    EXPECT_EQ(payload.caller().user_id(), "alice");
    EXPECT_EQ(payload.caller().nickname(), "Alice");
    EXPECT_TRUE(payload.video());
    EXPECT_EQ(payload.sent_at(), absl::ToUnixMillis(scheduler_.clock().Now()));
    EXPECT_EQ(payload.ttl_s(), 45);
    EXPECT_EQ(payload.end_result(), "");
    // Tampering breaks the signature.
    payload.set_call_id("call-2");
    EXPECT_FALSE(VerifyPushSignature(payload, bob_.push_key).ok());
  }
}

TEST_F(PushSenderTest, TokenTypesPerPush) {
  Push(Job("call.canceled", PushType::kVoip));
  ASSERT_EQ(http_.sent(), 2u);
  EXPECT_EQ(HeaderOf(http_.request(0), "TTL"), "60");
  wire::v1::PushPayload payload;
  ASSERT_TRUE(FromJson(http_.request(0).body, &payload).ok());
  EXPECT_EQ(payload.type(), "call.canceled");
  EXPECT_EQ(payload.end_result(), "canceled");
  EXPECT_TRUE(VerifyPushSignature(payload, bob_.push_key).ok());

  Push(Job("call.missed", PushType::kRemote));
  ASSERT_EQ(http_.sent(), 3u);
  EXPECT_EQ(http_.request(2).url, kRemote);
  ASSERT_TRUE(FromJson(http_.request(2).body, &payload).ok());
  EXPECT_EQ(payload.type(), "call.missed");
  EXPECT_TRUE(VerifyPushSignature(payload, bob_.push_key).ok());
}

TEST_F(PushSenderTest, NothingToSendWithoutTokensOrUser) {
  ASSERT_TRUE(store_->UnregisterPushTokens(bob_.rowid, PushType::kRemote).ok());
  Push(Job("call.missed", PushType::kRemote));
  PushJob nobody = Job();
  nobody.user_id = "nobody";
  Push(nobody);
  PushJob other_app = Job();
  other_app.app_id = "other";
  Push(other_app);
  EXPECT_EQ(http_.sent(), 0u);
}

TEST_F(PushSenderTest, FirstDeliveryIsReportedOnce) {
  Push(Job());
  Reply(1, 201);
  EXPECT_EQ(delivered_, 1);
  Reply(0, 200);
  EXPECT_EQ(delivered_, 1);
}

TEST_F(PushSenderTest, ServerErrorsAndTransportFailuresAreRetriedThreeTimes) {
  Push(Job());
  Reply(0, 503);
  Fail(1, absl::UnavailableError("connection refused"));
  EXPECT_EQ(http_.sent(), 2u);  // nothing before the backoff
  scheduler_.AdvanceBy(absl::Seconds(1));
  ASSERT_EQ(http_.sent(), 4u);
  EXPECT_EQ(http_.request(2).url, kVoip1);
  EXPECT_EQ(http_.request(2).body, http_.request(0).body);  // the same signed payload
  EXPECT_EQ(http_.request(3).url, kVoip2);
  Reply(2, 500);
  Fail(3, absl::DeadlineExceededError("timeout"));
  scheduler_.AdvanceBy(absl::Seconds(2) - absl::Milliseconds(1));
  EXPECT_EQ(http_.sent(), 4u);
  scheduler_.AdvanceBy(absl::Milliseconds(1));
  ASSERT_EQ(http_.sent(), 6u);
  Reply(4, 502);
  EXPECT_EQ(delivered_, 0);
  Reply(5, 200);  // the third try of the second endpoint gets through
  EXPECT_EQ(delivered_, 1);
  scheduler_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(http_.sent(), 6u);  // three tries each, no more
  EXPECT_THAT(Tokens(), ElementsAre(std::string("voip ") + kVoip1, std::string("remote ") + kRemote,
                                    std::string("voip ") + kVoip2));
}

TEST_F(PushSenderTest, GoneEndpointsAreUnregistered) {
  Push(Job());
  Reply(0, 410);
  Reply(1, 404);
  EXPECT_EQ(delivered_, 0);
  EXPECT_THAT(Tokens(), ElementsAre(std::string("remote ") + kRemote));
  scheduler_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(http_.sent(), 2u);  // not retried
}

TEST_F(PushSenderTest, OtherClientErrorsFailWithoutRetryOrUnregistering) {
  Push(Job());
  Reply(0, 400);
  Fail(1, absl::InvalidArgumentError("plain http to a remote host"));
  scheduler_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(http_.sent(), 2u);
  EXPECT_EQ(delivered_, 0);
  EXPECT_EQ(Tokens().size(), 3u);
}

TEST_F(PushSenderTest, RetryDelaysAndTriesFromOptions) {
  PushSenderOptions options;
  options.max_attempts = 2;
  options.first_retry_delay = absl::Milliseconds(200);
  options.request_timeout = absl::Seconds(1);
  sender_ = std::make_unique<PushSender>(store_.get(), &http_, &scheduler_, options);
  Push(Job("call.missed", PushType::kRemote));
  EXPECT_EQ(http_.request(0).timeout, absl::Seconds(1));
  Reply(0, 500);
  scheduler_.AdvanceBy(absl::Milliseconds(200));
  ASSERT_EQ(http_.sent(), 2u);
  Reply(1, 500);
  scheduler_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(http_.sent(), 2u);
}

TEST(MakePushPayloadTest, SignedWithTheKey) {
  PushJob job;
  job.app_id = "a";
  job.user_id = "u";
  job.type = "call.ringing";
  job.call_id = "c";
  job.caller_id = "x";
  job.ttl_s = 30;
  const std::string key(32, 'k');
  wire::v1::PushPayload payload = MakePushPayload(job, key, absl::FromUnixMillis(1234));
  EXPECT_EQ(payload.sent_at(), 1234);
  EXPECT_EQ(payload.v(), 1);
  EXPECT_TRUE(VerifyPushSignature(payload, key).ok());
  // The JSON carries sig last, after the signed fields.
  const std::string json = ToJson(payload);
  EXPECT_EQ(json.find("\"sig\":"), json.size() - payload.sig().size() - 9);
}

}  // namespace
}  // namespace callsd::server::testing
