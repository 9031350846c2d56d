#include "tests/testing/agent_harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "gtest/gtest.h"

namespace datagen::testing {

AgentHarness::AgentHarness(Options options) : socket_path_(dir_.path() + "/run/agent.sock") {
  AgentConfig config;
  config.socket_path = socket_path_;
  config.credentials_path = dir_.path() + "/config/credentials.json";
  config.api_url = kIssuer;
  config.uid = getuid();
  config.identity_max_age = options.identity_max_age;
  config.sleep_after = options.sleep_after;
  config.executor_threads = 2;
  config.background_work = options.background_work;
  config.request_exit = options.request_exit;
  config.random = &NoJitter();  // exact schedules
  absl::StatusOr<std::unique_ptr<Agent>> agent = Agent::Start(config, gate_, clock_, &store_);
  if (!agent.ok()) {
    ADD_FAILURE() << "the agent did not start: " << agent.status();
    std::abort();  // every test needs it
  }
  agent_ = *std::move(agent);
}

AgentHarness::~AgentHarness() {
  gate_.Open();  // a login held at the gate must not hold up the shutdown's join
  agent_.reset();
}

std::unique_ptr<cli::AgentClient> AgentHarness::NewClient() const {
  cli::AgentClient::Options options;
  options.socket_path = socket_path_;
  options.autostart = false;
  return std::make_unique<cli::AgentClient>(options);
}

void AgentHarness::SignIn(const std::string& token, const std::string& org) {
  agent::v1::Credentials c;
  c.set_token(token);
  c.set_email("you@yourcompany.com");
  c.set_active_org_slug(org);
  c.set_api_url(kIssuer);  // as every login records it
  store_.Put(c);
}

}  // namespace datagen::testing
