#include "server/demo.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "common/testing/simulated_scheduler.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/file_util.h"
#include "server/http/api.h"
#include "tests/unit/server/temp_dir.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server {
namespace {

using testing::TempDir;

class DemoTest : public ::testing::Test {
 protected:
  // Opens the store and sets up the demo as a fresh start would.
  absl::Status Start(const std::string& db = "calls.db") {
    api_.reset();
    store_.reset();
    apps_ = std::make_unique<AppRegistry>();
    auto store = Store::Open(dir_.File(db));
    if (!store.ok()) return store.status();
    store_ = *std::move(store);
    absl::Status status = SetUpDemo(demo_dir_, store_.get(), apps_.get(), clock_);
    api_ = std::make_unique<Api>(store_.get(), apps_.get(), &clock_);
    return status;
  }

  std::string Read(const std::string& name) {
    auto secret = ReadSecretFile(demo_dir_ + "/" + name);
    EXPECT_TRUE(secret.ok()) << secret.status();
    return secret.value_or("");
  }

  int Auth(const std::string& user_id, const std::string& token) {
    HttpRequest request;
    request.method = "POST";
    request.path = "/v1/auth";
    request.headers["app-id"] = kDemoAppId;
    wire::v1::AuthRequest body;
    body.set_user_id(user_id);
    body.set_access_token(token);
    request.body = ToJson(body);
    return api_->Handle(request).http_status;
  }

  TempDir dir_;
  std::string demo_dir_ = dir_.File("demo");
  callsd::testing::SimulatedClock clock_;
  std::unique_ptr<AppRegistry> apps_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Api> api_;
};

TEST_F(DemoTest, CreatesAppUsersAndPrivateSecretFiles) {
  ASSERT_TRUE(Start().ok());
  struct stat st;
  ASSERT_EQ(stat(demo_dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  for (const char* name : {"api-token", "alice.token", "bob.token"}) {
    ASSERT_EQ(stat((demo_dir_ + "/" + name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600) << name;
    EXPECT_GE(Read(name).size(), 40u) << name;
  }
  EXPECT_EQ(apps_->FindByToken(Read("api-token")), kDemoAppId);
  EXPECT_EQ(store_->GetUser(kDemoAppId, "alice")->nickname, "Alice");
  EXPECT_EQ(store_->GetUser(kDemoAppId, "bob")->nickname, "Bob");
  EXPECT_EQ(Auth("alice", Read("alice.token")), 200);
  EXPECT_EQ(Auth("bob", Read("bob.token")), 200);
  EXPECT_EQ(Auth("alice", Read("bob.token")), 400);
}

TEST_F(DemoTest, RestartReusesEverything) {
  ASSERT_TRUE(Start().ok());
  const std::string master = Read("api-token");
  const std::string alice = Read("alice.token");
  const int64_t rowid = store_->GetUser(kDemoAppId, "alice")->rowid;
  ASSERT_TRUE(Start().ok());
  EXPECT_EQ(Read("api-token"), master);
  EXPECT_EQ(Read("alice.token"), alice);
  EXPECT_EQ(store_->GetUser(kDemoAppId, "alice")->rowid, rowid);
  EXPECT_EQ(apps_->FindByToken(master), kDemoAppId);
  EXPECT_EQ(Auth("alice", alice), 200);
}

TEST_F(DemoTest, MissingTokenFileIsReissued) {
  ASSERT_TRUE(Start().ok());
  const std::string old_token = Read("alice.token");
  const std::string bob = Read("bob.token");
  ASSERT_EQ(unlink((demo_dir_ + "/alice.token").c_str()), 0);
  ASSERT_TRUE(Start().ok());
  const std::string new_token = Read("alice.token");
  EXPECT_NE(new_token, old_token);
  EXPECT_EQ(Auth("alice", new_token), 200);
  EXPECT_EQ(Auth("alice", old_token), 400);  // replaced
  EXPECT_EQ(Read("bob.token"), bob);
  EXPECT_EQ(Auth("bob", bob), 200);
}

TEST_F(DemoTest, ExistingFilesWorkWithANewDatabase) {
  ASSERT_TRUE(Start("first.db").ok());
  const std::string alice = Read("alice.token");
  ASSERT_TRUE(Start("second.db").ok());
  EXPECT_EQ(Read("alice.token"), alice);
  EXPECT_EQ(Auth("alice", alice), 200);
}

TEST_F(DemoTest, TokenFileOfAnotherUserIsAnError) {
  ASSERT_TRUE(Start().ok());
  ASSERT_TRUE(WriteFileAtomically(demo_dir_ + "/bob.token", Read("alice.token"), 0600).ok());
  absl::Status status = Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), demo_dir_ +
                                  "/bob.token holds the access token of another user; delete it "
                                  "to issue a new one");
}

}  // namespace
}  // namespace callsd::server
