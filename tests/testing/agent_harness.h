// The agent's whole wiring (the Agent class, as datagen-agent runs it) over fakes: a FakeClock,
// scripted HTTP behind a gate that can hold the token endpoint (GatedTransport), a
// MemoryCredentialStore, and a private temporary folder for the socket and the revocation queue.
// The agent serves on a real Unix socket; client() is the CLI's own AgentClient on it (no
// auto-start). Unit tests of the session and the login broker use its parts; in-process
// service tests use the client.
#ifndef DATAGEN_TESTS_TESTING_AGENT_HARNESS_H_
#define DATAGEN_TESTS_TESTING_AGENT_HARNESS_H_

#include <memory>
#include <string>

#include "agent/agent.h"
#include "client/agent_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_http_transport.h"
#include "tests/testing/gated_transport.h"
#include "tests/testing/identity_server.h"
#include "tests/testing/memory_credential_store.h"
#include "tests/testing/temp_dir.h"

namespace datagen::testing {

class AgentHarness {
 public:
  struct Options {
    absl::Duration identity_max_age = absl::ZeroDuration();
    // Off by default: a test's client keeps one connection across clock jumps.
    absl::Duration sleep_after = absl::ZeroDuration();
    // Off by default: tests run Session::DoDueWork themselves, deterministically.
    bool background_work = false;
    // What the agent does to exit after a Handover (never signals the test's process).
    std::function<void()> request_exit = [] {};
  };
  AgentHarness() : AgentHarness(Options()) {}
  explicit AgentHarness(Options options);
  ~AgentHarness();

  FakeClock& clock() { return clock_; }
  FakeHttpTransport& http() { return http_; }
  GatedTransport& gate() { return gate_; }
  MemoryCredentialStore& store() { return store_; }
  Agent& agent() { return *agent_; }
  Session& session() { return agent_->session(); }
  // A new client of the CLI's kind on the agent's socket.
  std::unique_ptr<cli::AgentClient> NewClient() const;
  const std::string& socket_path() const { return socket_path_; }
  const std::string& dir() const { return dir_.path(); }

  // Stores a session for `token` (as a login would have) at the configured issuer.
  void SignIn(const std::string& token = "dgat_tok", const std::string& org = "yourcompany");

 private:
  TempDir dir_;
  std::string socket_path_;
  FakeClock clock_;
  FakeHttpTransport http_;
  GatedTransport gate_{http_};
  MemoryCredentialStore store_;
  std::unique_ptr<Agent> agent_;
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_AGENT_HARNESS_H_
