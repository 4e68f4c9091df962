// The REST side of calls: ringing calls, decline, call logs (client) and
// direct_calls (platform), with a CallRouter on simulated time behind the Api.
#include <memory>
#include <string>
#include <vector>

#include "common/calls_error.h"
#include "common/crypto.h"
#include "common/testing/simulated_scheduler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/calls/call_router.h"
#include "tests/unit/server/api_test_base.h"
#include "tests/unit/server/call_fakes.h"

namespace callsd::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr ConnId kAlice = 1;
constexpr ConnId kBob = 2;

class CallsApiTest : public ApiTest {
 protected:
  CallsApiTest() {
    router_ = std::make_unique<CallRouter>(store_.get(), &scheduler_, &sender_, &pusher_);
    api_ = std::make_unique<Api>(store_.get(), &apps_, &clock_, ApiOptions(), router_.get());
    alice_key_ = Login("alice", CreateUser("alice"));
    bob_key_ = Login("bob", CreateUser("bob"));
    Open(kAlice, "alice");
    Open(kBob, "bob");
  }

  void Open(ConnId conn, const std::string& user_id) {
    UserRecord user = *store_->GetUser(kApp, user_id);
    ConnectionInfo who;
    who.app_id = kApp;
    who.user_rowid = user.rowid;
    who.user_id = user.user_id;
    router_->OnOpen(conn, who);
    sender_.TakeTypes(conn);
  }
  void Ws(ConnId conn, const std::string& json) {
    wire::v1::WsMessage message;
    ASSERT_TRUE(FromJson(json, &message).ok());
    router_->OnMessage(conn, message);
    scheduler_.RunUntilIdle();
  }
  // alice dials bob; returns the call ID.
  std::string Dial() {
    Ws(kAlice, R"({"type":"dial","req_id":"d","callee_id":"bob"})");
    wire::v1::WsMessage dialing = sender_.Next(kAlice);
    EXPECT_EQ(dialing.type(), "dialing");
    return dialing.call_id();
  }
  std::vector<std::string> Ids(const wire::v1::CallList& list) {
    std::vector<std::string> ids;
    for (const auto& call : list.calls()) ids.push_back(call.call_id());
    return ids;
  }

  callsd::testing::SimulatedScheduler scheduler_;
  FakeSender sender_;
  FakePusher pusher_;
  std::unique_ptr<CallRouter> router_;
  std::string alice_key_;
  std::string bob_key_;
};

TEST_F(CallsApiTest, RingingCallsForMe) {
  const std::string id = Dial();
  // (Queries are parsed by the transport; this one has none: state may be
  // left out.)
  HttpResponse r = Send("GET", "/v1/calls", "", {{"app-id", kApp}, {"session-key", bob_key_}});
  ASSERT_EQ(r.http_status, 200) << r.body;
  auto list = Parse<wire::v1::CallList>(r);
  ASSERT_EQ(list.calls_size(), 1);
  EXPECT_EQ(list.calls(0).call_id(), id);
  EXPECT_EQ(list.calls(0).state(), "ringing");
  EXPECT_EQ(list.calls(0).caller().user_id(), "alice");
  EXPECT_EQ(list.next(), "");
  // The caller is not the callee.
  EXPECT_THAT(Ids(Parse<wire::v1::CallList>(Session(alice_key_, "GET", "/v1/calls"))), IsEmpty());
  // Once accepted it no longer rings.
  Ws(kBob, R"({"type":"accept","call_id":")" + id + "\"}");
  EXPECT_THAT(Ids(Parse<wire::v1::CallList>(Session(bob_key_, "GET", "/v1/calls"))), IsEmpty());
}

TEST_F(CallsApiTest, StateOtherThanRingingIsRefused) {
  HttpRequest request;
  request.method = "GET";
  request.path = "/v1/calls";
  request.query["state"] = "ended";
  request.headers = {{"app-id", kApp}, {"session-key", bob_key_}};
  HttpResponse r = api_->Handle(request);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeInvalidParams, "state: only \"ringing\" is supported"));
  request.query["state"] = "ringing";
  EXPECT_EQ(api_->Handle(request).http_status, 200);
}

TEST_F(CallsApiTest, SessionIsRequired) {
  HttpResponse r = Client("GET", "/v1/call_logs");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeMissingParams, "Session-Key header is missing"));
  r = Session("nope", "POST", "/v1/calls/x/decline");
  EXPECT_EQ(r.body, Error(kCodeInvalidAccessToken, "invalid session key"));
}

TEST_F(CallsApiTest, DeclineEndsTheRingingCall) {
  const std::string id = Dial();
  HttpResponse r = Session(alice_key_, "POST", "/v1/calls/" + id + "/decline");
  EXPECT_EQ(r.http_status, 401);
  EXPECT_THAT(r.body, ::testing::HasSubstr("\"code\":401120"));

  r = Session(bob_key_, "POST", "/v1/calls/" + id + "/decline");
  ASSERT_EQ(r.http_status, 200) << r.body;
  auto call = Parse<wire::v1::CallInfo>(r);
  EXPECT_EQ(call.call_id(), id);
  EXPECT_EQ(call.state(), "ended");
  EXPECT_EQ(call.end_result(), "declined");
  EXPECT_EQ(call.ended_by(), "bob");
  wire::v1::WsMessage ended = sender_.Next(kAlice);
  EXPECT_EQ(ended.type(), "ended");
  EXPECT_EQ(ended.end_result(), "declined");

  r = Session(bob_key_, "POST", "/v1/calls/" + id + "/decline");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_THAT(r.body, ::testing::HasSubstr("\"code\":1400101"));
  r = Session(bob_key_, "POST", "/v1/calls/unknown/decline");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_THAT(r.body, ::testing::HasSubstr("\"code\":1400102"));
  EXPECT_EQ(Session(bob_key_, "GET", "/v1/calls/x/decline").http_status, 405);
}

TEST_F(CallsApiTest, CallLogsPageNewestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Dial());
    Ws(kAlice, R"({"type":"end","call_id":")" + ids.back() + "\"}");
    EXPECT_THAT(sender_.TakeTypes(kAlice), ElementsAre("ended"));
  }
  auto request = [&](const std::string& key, const std::string& limit, const std::string& next) {
    HttpRequest r;
    r.method = "GET";
    r.path = "/v1/call_logs";
    if (!limit.empty()) r.query["limit"] = limit;
    if (!next.empty()) r.query["next"] = next;
    r.headers = {{"app-id", kApp}, {"session-key", key}};
    return api_->Handle(r);
  };
  HttpResponse r = request(alice_key_, "2", "");
  ASSERT_EQ(r.http_status, 200) << r.body;
  auto page = Parse<wire::v1::CallList>(r);
  EXPECT_THAT(Ids(page), ElementsAre(ids[4], ids[3]));
  EXPECT_EQ(page.calls(0).state(), "ended");
  EXPECT_EQ(page.calls(0).end_result(), "canceled");
  ASSERT_FALSE(page.next().empty());
  page = Parse<wire::v1::CallList>(request(alice_key_, "2", page.next()));
  EXPECT_THAT(Ids(page), ElementsAre(ids[2], ids[1]));
  page = Parse<wire::v1::CallList>(request(alice_key_, "2", page.next()));
  EXPECT_THAT(Ids(page), ElementsAre(ids[0]));
  EXPECT_EQ(page.next(), "");
  // Default limit (20) and the callee's view.
  page = Parse<wire::v1::CallList>(request(bob_key_, "", ""));
  EXPECT_EQ(page.calls_size(), 5);
  EXPECT_EQ(page.next(), "");

  for (const char* bad : {"0", "101", "x", "-1"}) {
    r = request(alice_key_, bad, "");
    EXPECT_EQ(r.http_status, 400) << bad;
    EXPECT_EQ(r.body, Error(kCodeInvalidParams, "limit: must be 1 to 100"));
  }
  EXPECT_EQ(request(alice_key_, "100", "").http_status, 200);
  for (const char* bad : {"garbage!", "Y2FsbHM6", "eHl6"}) {
    r = request(alice_key_, "", bad);
    EXPECT_EQ(r.http_status, 400) << bad;
    EXPECT_EQ(r.body, Error(kCodeInvalidParams, "next: not a cursor from this server"));
  }
}

TEST_F(CallsApiTest, DirectCallsForAnyUserOfTheApp) {
  const std::string ringing = Dial();
  HttpRequest request;
  request.method = "GET";
  request.path = "/v1/direct_calls";
  request.headers = {{"api-token", kAppToken}};
  HttpResponse r = api_->Handle(request);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeMissingParams, "user_id is required"));
  request.query["user_id"] = "nobody";
  r = api_->Handle(request);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeNotFound, "user nobody not found"));
  request.query["user_id"] = "bob";
  r = api_->Handle(request);
  ASSERT_EQ(r.http_status, 200) << r.body;
  auto list = Parse<wire::v1::CallList>(r);
  EXPECT_THAT(Ids(list), ElementsAre(ringing));
  EXPECT_EQ(list.calls(0).state(), "ringing");
  // Another app's master token does not see app1's users.
  request.headers = {{"api-token", kOtherAppToken}};
  EXPECT_EQ(api_->Handle(request).http_status, 400);
  request.headers = {};
  EXPECT_EQ(api_->Handle(request).http_status, 401);
}

}  // namespace
}  // namespace callsd::server::testing
