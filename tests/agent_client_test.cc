// The CLI's client through its seams (issue 23): autostart, a stuck agent and the upgrade
// hand-over, against an in-process agent (a fake AuthAgent service on a real Unix socket) and a
// fake launcher that "starts" one. No agent process; the client's own dialer (the folder and
// peer checks) runs as in production.
#include "client/agent_client.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "agent/common/fd_io.h"
#include "agent/common/paths.h"
#include "agent/common/version.h"
#include "agent/common/wire_contract.h"
#include "client/handover.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace datagen::cli {
namespace {

using ::testing::HasSubstr;

// An agent in this process: answers GetStatus with `email`, marks every reply as an agent's
// with `version` and `binary_id`, and can be stuck (answers nothing until released) or hand
// over (answers exiting_now, then stops serving).
class FakeAgent final : public agent::v1::AuthAgent::Service {
 public:
  struct Setup {
    std::string email = "you@yourcompany.com";
    std::string version = kVersion;
    std::string binary_id;
    std::string binary_path;
    bool stuck = false;
    bool stays = false;  // Handover: a login keeps it (exiting_now false)
  };
  FakeAgent(const std::string& socket, Setup setup) : setup_(std::move(setup)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeAgent() override {
    released_.Notify();
    Stop();
    if (stopper_.joinable()) stopper_.join();
  }
  // Stops serving; calls in flight are cancelled after `grace`.
  void Stop(absl::Duration grace = absl::ZeroDuration()) {
    if (!stopped_.exchange(true)) server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  bool serving() const { return server_ != nullptr; }
  int handovers() const { return handovers_; }

  grpc::Status GetStatus(grpc::ServerContext* context, const agent::v1::GetStatusRequest*,
                         agent::v1::GetStatusResponse* reply) override {
    Mark(context);
    if (setup_.stuck) released_.WaitForNotification();
    reply->set_email(setup_.email);
    return grpc::Status::OK;
  }
  grpc::Status GetAgentInfo(grpc::ServerContext* context, const agent::v1::GetAgentInfoRequest*,
                            agent::v1::AgentInfo* info) override {
    Mark(context);
    if (setup_.stuck) released_.WaitForNotification();
    info->set_version(setup_.version);
    info->set_binary_path(setup_.binary_path);
    info->set_binary_id(setup_.binary_id);
    info->set_pid(getpid());
    return grpc::Status::OK;
  }
  grpc::Status Handover(grpc::ServerContext* context, const agent::v1::HandoverRequest*,
                        agent::v1::HandoverResponse* reply) override {
    Mark(context);
    ++handovers_;
    reply->set_exiting_now(!setup_.stays);
    if (setup_.stays) return grpc::Status::OK;
    // A graceful shutdown: this call's reply leaves first, nothing new is taken.
    stopper_ = std::thread([this] { Stop(absl::Seconds(10)); });
    return grpc::Status::OK;
  }

 private:
  void Mark(grpc::ServerContext* context) {
    context->AddTrailingMetadata(kAgentReplyKey, "1");
    context->AddTrailingMetadata(kAgentVersionKey, setup_.version);
    context->AddTrailingMetadata(kAgentBinaryKey, setup_.binary_id);
  }

  Setup setup_;
  std::unique_ptr<grpc::Server> server_;
  absl::Notification released_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> handovers_{0};
  std::thread stopper_;
};

// "Starts" an agent: a FakeAgent with `next` on the socket, then waits until it answers.
class FakeLauncher final : public Launcher {
 public:
  explicit FakeLauncher(std::string binary) : binary_(std::move(binary)) {}
  std::string AgentBinary() override { return binary_; }
  absl::Status Start(const std::string& socket_path, const std::string&,
                     const std::function<bool()>& answers) override {
    ++starts_;
    started_ = std::make_unique<FakeAgent>(socket_path, next_);
    if (testing::WaitUntil(answers)) return absl::OkStatus();
    return absl::UnavailableError("the fake agent did not answer");
  }
  FakeAgent::Setup next_;
  int starts_ = 0;
  std::unique_ptr<FakeAgent> started_;

 private:
  std::string binary_;
};

class AgentClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/dgc-XXXXXX";
    dir_ = mkdtemp(pattern);  // 0700: the client's folder check passes
    socket_ = dir_ + "/agent.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  AgentClient::Options Options(bool autostart) {
    AgentClient::Options options;
    options.socket_path = socket_;
    options.agent_log_path = dir_ + "/agent.log";
    options.autostart = autostart;
    options.launcher = &launcher_;
    return options;
  }

  std::string dir_, socket_;
  // The "installed" agent binary: a real file, so that its identity can be compared.
  FakeLauncher launcher_{"/bin/true"};
};

TEST_F(AgentClientTest, WithNoAgentAutostartStartsOneThroughTheLauncher) {
  launcher_.next_.binary_id = FileIdentity("/bin/true");
  AgentClient client(Options(/*autostart=*/true));
  EXPECT_FALSE(client.answered_at_start());
  agent::v1::GetStatusResponse reply;
  grpc::Status status = client.GetStatus(false, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.email(), "you@yourcompany.com");
  EXPECT_EQ(launcher_.starts_, 1);
  ASSERT_TRUE(client.GetStatus(false, &reply).ok());
  EXPECT_EQ(launcher_.starts_, 1) << "one start, then the same connection";
}

TEST_F(AgentClientTest, WithoutAutostartNothingIsStartedAndTheCallSaysSo) {
  AgentClient client(Options(/*autostart=*/false));
  agent::v1::GetStatusResponse reply;
  grpc::Status status = client.GetStatus(false, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(client.agent_unreachable());
  EXPECT_TRUE(AgentUnreachable(status)) << "the status says so itself, no side flag needed";
  EXPECT_THAT(status.error_message(), HasSubstr("auto-start is off"));
  EXPECT_EQ(launcher_.starts_, 0);
}

// An agent that accepts the connection but answers nothing, not even GetAgentInfo (SIGSTOP, a
// hang): named, with its log, after the probe; nothing is started over it.
TEST_F(AgentClientTest, AStuckAgentIsNamedNotWaitedOnForever) {
  FakeAgent::Setup stuck;
  stuck.stuck = true;
  FakeAgent agent(socket_, stuck);
  AgentClient client(Options(/*autostart=*/true));
  EXPECT_TRUE(client.answered_at_start());
  agent::v1::GetStatusResponse reply;
  absl::Time start = absl::Now();
  grpc::Status status = client.GetStatus(false, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("is not answering: it may be stopped or hung"));
  EXPECT_TRUE(AgentUnreachable(status));
  EXPECT_THAT(status.error_message(), HasSubstr(dir_ + "/agent.log"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_EQ(launcher_.starts_, 0);
}

// An agent started from the installed binary's path, but from the file an upgrade replaced (its
// binary identity differs): asked to hand over, and the call goes to the one the launcher starts.
TEST_F(AgentClientTest, AnAgentFromBeforeAnUpgradeHandsOverToTheInstalledOne) {
  FakeAgent::Setup old;
  old.email = "old@yourcompany.com";
  old.version = "0.0.1";
  old.binary_id = "1:1";
  old.binary_path = "/bin/true";
  auto before = std::make_unique<FakeAgent>(socket_, old);
  launcher_.next_.email = "new@yourcompany.com";
  launcher_.next_.binary_id = FileIdentity("/bin/true");
  launcher_.next_.binary_path = "/bin/true";
  AgentClient client(Options(/*autostart=*/true));
  agent::v1::GetStatusResponse reply;
  grpc::Status status = client.GetStatus(false, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.email(), "new@yourcompany.com");
  EXPECT_EQ(before->handovers(), 1);
  EXPECT_EQ(launcher_.starts_, 1);
}

// One from another install (another binary path) is left alone.
TEST_F(AgentClientTest, AnAgentOfAnotherInstallIsLeftAlone) {
  FakeAgent::Setup other;
  other.email = "other@yourcompany.com";
  other.version = "0.0.1";
  other.binary_id = "1:1";
  other.binary_path = "/opt/elsewhere/datagen-agent";
  FakeAgent agent(socket_, other);
  AgentClient client(Options(/*autostart=*/true));
  agent::v1::GetStatusResponse reply;
  ASSERT_TRUE(client.GetStatus(false, &reply).ok());
  EXPECT_EQ(reply.email(), "other@yourcompany.com");
  EXPECT_FALSE(AgentUnreachable(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is down",
                                             "ERROR_REASON_SERVER_UNREACHABLE")))
      << "the agent's own UNAVAILABLE is an answer";
  EXPECT_EQ(agent.handovers(), 0);
  EXPECT_EQ(launcher_.starts_, 0);
}

// The hand-over policy on its own (client/handover.h), over a plain stub to the fake agent.
class HandoverPolicyTest : public AgentClientTest {
 protected:
  // Calls GetStatus on an agent with `setup` and asks the policy whether it is outdated
  // against the installed /bin/true.
  bool Outdated(FakeAgent::Setup setup, const std::string& installed = "/bin/true") {
    FakeAgent agent(socket_, setup);
    auto stub = agent::v1::AuthAgent::NewStub(
        grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext answered;
    agent::v1::GetStatusResponse reply;
    EXPECT_TRUE(stub->GetStatus(&answered, agent::v1::GetStatusRequest(), &reply).ok());
    return OutdatedAgent(answered, installed, *stub);
  }
};

TEST_F(HandoverPolicyTest, OnlyAnAgentOfThisInstallFromBeforeAnUpgradeIsOutdated) {
  FakeAgent::Setup current;
  current.binary_id = FileIdentity("/bin/true");
  current.binary_path = "/bin/true";
  EXPECT_FALSE(Outdated(current)) << "this version, this file";
  FakeAgent::Setup replaced = current;
  replaced.binary_id = "1:1";  // the path's file was replaced since it started
  EXPECT_TRUE(Outdated(replaced));
  FakeAgent::Setup older = current;
  older.version = "0.0.1";
  EXPECT_TRUE(Outdated(older)) << "another version from the same file";
  FakeAgent::Setup elsewhere = replaced;
  elsewhere.binary_path = "/opt/elsewhere/datagen-agent";
  EXPECT_FALSE(Outdated(elsewhere)) << "another install's agent is left alone";
  EXPECT_FALSE(Outdated(replaced, "")) << "no installed binary known: never";
  FakeAgent::Setup anonymous = replaced;
  anonymous.binary_id = "";
  EXPECT_FALSE(Outdated(anonymous)) << "an agent that sends no identity cannot hand over";
}

TEST_F(HandoverPolicyTest, AskingWaitsUntilTheAgentIsGoneAndAWaitingLoginKeepsIt) {
  Dialer dial = [](const std::string& socket) { return ConnectToAgent(socket, getuid()); };
  {
    FakeAgent::Setup busy;
    busy.stays = true;
    FakeAgent agent(socket_, busy);
    auto stub = agent::v1::AuthAgent::NewStub(
        grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
    EXPECT_FALSE(AskToHandOver(*stub, dial, socket_)) << "a login in progress keeps it";
    EXPECT_EQ(agent.handovers(), 1);
  }
  FakeAgent agent(socket_, FakeAgent::Setup());
  auto stub = agent::v1::AuthAgent::NewStub(
      grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
  absl::Time start = absl::Now();
  EXPECT_TRUE(AskToHandOver(*stub, dial, socket_));
  EXPECT_FALSE(dial(socket_).ok()) << "returned while the agent still answered";
  EXPECT_LT(absl::Now() - start, kHandoverWait);
}

}  // namespace
}  // namespace datagen::cli
