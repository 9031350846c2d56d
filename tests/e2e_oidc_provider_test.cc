// End to end against two certified OpenID providers (panva's oidc-provider, from the npm
// registry, tools/oidc-provider/issuer.mjs) as two issuers: nothing of this project's fake
// server. Each is signed in at through its own verification pages (approve.mjs, a person over
// HTTP), and each issuer counts every token it is sent that it never issued.
#include <atomic>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/common/json.h"
#include "agent/common/paths.h"
#include "agent/http/curl_http_transport.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;

CurlHttpTransport& Http() {
  static CurlHttpTransport* transport = [] {
    CurlHttpTransport::GlobalInit();
    return new CurlHttpTransport;
  }();
  return *transport;
}

// One oidc-provider on 127.0.0.1, with its own user and memberships.
class OidcIssuer {
 public:
  OidcIssuer(const std::string& dir, const std::string& name, int access_ttl_seconds,
             const std::string& email, const std::string& orgs) {
    const std::string port_file = dir + "/" + name + ".port";
    err_path_ = dir + "/" + name + ".err";
    child_ =
        Child({"/usr/bin/node", Runfile("tools/oidc-provider/issuer.mjs"), port_file,
               "--access-ttl", absl::StrCat(access_ttl_seconds), "--email", email, "--orgs", orgs},
              {"PATH=/usr/bin:/bin"}, dir + "/" + name + ".out", err_path_);
    int port = 0;
    WaitUntil(
        [&] { return absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(port_file)), &port); },
        absl::Seconds(90));  // node loads oidc-provider: seconds on a busy machine
    EXPECT_GT(port, 0) << ReadFile(err_path_);
    url_ = absl::StrCat("http://127.0.0.1:", port);
  }

  const std::string& url() const { return url_; }

  // One of /_test/stats's counters (-1 when the issuer did not answer).
  int Stat(const std::string& name) {
    google::protobuf::Struct reply;
    if (!Get("/_test/stats", &reply)) return -1;
    auto it = reply.fields().find(name);
    return it == reply.fields().end() ? -1 : static_cast<int>(it->second.number_value());
  }

  // Every token and device code this issuer handed out.
  std::vector<std::string> Secrets() {
    std::vector<std::string> secrets;
    google::protobuf::Struct reply;
    if (!Get("/_test/secrets", &reply)) return secrets;
    for (const auto& value : reply.fields().at("secrets").list_value().values()) {
      secrets.push_back(value.string_value());
    }
    return secrets;
  }

  // The HTTP status of this issuer's userinfo for `token`.
  int Userinfo(const std::string& token) {
    HttpRequest request;
    request.url = url_ + "/me";
    request.headers = {{"Authorization", "Bearer " + token}};
    absl::StatusOr<HttpResponse> response = Http().Send(request);
    return response.ok() ? response->status : 0;
  }

  std::string Errors() { return ReadFile(err_path_); }

 private:
  bool Get(const std::string& path, google::protobuf::Struct* reply) {
    HttpRequest request;
    request.url = url_ + path;
    absl::StatusOr<HttpResponse> response = Http().Send(request);
    return response.ok() && response->status == 200 &&
           ParseJson(response->body, "issuer test reply", reply).ok();
  }

  Child child_;
  std::string url_, err_path_;
};

// A world with no fake server, a default profile at `a` and a profile "staging" at `b`.
class TwoOidcProviders : public ::testing::Test {
 protected:
  void StartIssuers(int access_ttl_seconds) {
    a_.emplace(env_.dir(), "issuer-a", access_ttl_seconds, "you@yourcompany.com",
               "yourcompany:admin,test-org:member");
    b_.emplace(env_.dir(), "issuer-b", access_ttl_seconds, "you@staging.example",
               "staging-org:admin");
  }

  void TearDown() override {
    // What both issuers handed out is a secret no output, log or file of this test may show.
    for (std::optional<OidcIssuer>* issuer : {&a_, &b_}) {
      if (!issuer->has_value()) continue;
      for (const std::string& secret : (*issuer)->Secrets()) env_.AddSecret(secret);
    }
  }

  RunResult Datagen(std::vector<std::string> args, std::vector<std::string> env = {}) {
    env.push_back("DATAGEN_API_URL=" + a_->url());
    return env_.Datagen(args, env);
  }

  // Signs in the default profile (at a) or `profile` (at b), approved at the issuer's pages.
  void SignIn(const std::string& profile) {
    std::vector<std::string> args = {"auth", "login"};
    if (!profile.empty()) args.insert(args.end(), {"--profile", profile, "--api-url", b_->url()});
    const std::string log = env_.dir() + "/approve-" + profile + ".log";
    RunResult r =
        Datagen(args, {"BROWSER=/usr/bin/node " + Runfile("tools/oidc-provider/approve.mjs"),
                       "APPROVE_LOG=" + log});
    ASSERT_EQ(r.exit_code, 0) << r.err << "\napprove: " << ReadFile(log)
                              << "\nissuer: " << (profile.empty() ? a_ : b_)->Errors();
    EXPECT_THAT(r.out, HasSubstr("status: authenticated"));
  }

  // `datagen auth token` (not through env_.Datagen: printing the token is the point of it).
  std::string Token(const std::string& profile) {
    std::vector<std::string> argv = {E2eEnv::DatagenBinary(), "auth", "token"};
    if (!profile.empty()) argv.insert(argv.end(), {"--profile", profile});
    std::vector<std::string> environment = env_.Env({"DATAGEN_API_URL=" + a_->url()});
    RunResult r = RunProcess(argv, environment);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::string(absl::StripAsciiWhitespace(r.out));
  }

  // `calls` token calls per profile from `threads` threads each, both profiles at once; each
  // token is checked at its own issuer's userinfo. Returns the tokens, by profile.
  std::map<std::string, std::set<std::string>> Hammer(int threads, int calls,
                                                      absl::Duration at_least) {
    absl::Mutex mu;
    std::map<std::string, std::set<std::string>> tokens;
    std::atomic<int> refused{0};
    const absl::Time start = absl::Now();
    std::vector<std::thread> workers;
    for (const std::string profile : {"", "staging"}) {
      OidcIssuer* issuer = profile.empty() ? &*a_ : &*b_;
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, profile, issuer] {
          for (int i = 0; i < calls || absl::Now() - start < at_least; ++i) {
            std::string token = Token(profile);
            if (issuer->Userinfo(token) != 200) ++refused;
            absl::MutexLock lock(&mu);
            tokens[profile].insert(token);
          }
        });
      }
    }
    for (std::thread& worker : workers) worker.join();
    EXPECT_EQ(refused.load(), 0) << "every token is accepted by its own issuer when handed out";
    return tokens;
  }

  E2eEnv env_{WithDiscovery("")};
  std::optional<OidcIssuer> a_, b_;
};

TEST_F(TwoOidcProviders, SignedInAtBothAtOnceEachTokenGoesOnlyToItsOwnIssuer) {
  StartIssuers(3600);
  SignIn("");
  SignIn("staging");

  RunResult r = Datagen({"auth", "status", "--all"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("you@yourcompany.com"));
  EXPECT_THAT(r.out, HasSubstr("you@staging.example"));
  EXPECT_THAT(r.out, HasSubstr(b_->url()));
  r = Datagen({"auth", "status", "--profile", "staging"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "profile: staging\nemail: you@staging.example\nactive_org_slug: staging-org\n"
            "role: admin\n");

  // 100 token calls for each profile, in parallel (4 threads each).
  auto tokens = Hammer(4, 25, absl::ZeroDuration());
  ASSERT_FALSE(tokens[""].empty());
  ASSERT_FALSE(tokens["staging"].empty());
  for (const std::string& token : tokens[""]) EXPECT_EQ(tokens["staging"].count(token), 0u);
  EXPECT_EQ(a_->Stat("foreign_tokens"), 0) << "a token of b arrived at a";
  EXPECT_EQ(b_->Stat("foreign_tokens"), 0) << "a token of a arrived at b";

  // Logging out of staging revokes at b only, and the default profile stays signed in.
  const int revoked_at_a = a_->Stat("revocations");
  r = Datagen({"auth", "logout", "--profile", "staging"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "b confirmed the revocation";
  EXPECT_GE(b_->Stat("revocations"), 1);
  EXPECT_EQ(a_->Stat("revocations"), revoked_at_a);
  for (const std::string& token : tokens["staging"]) EXPECT_EQ(b_->Userinfo(token), 401);
  EXPECT_EQ(Datagen({"auth", "status", "--profile", "staging"}).exit_code, 4);
  r = Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(a_->Userinfo(Token("")), 200);
  EXPECT_EQ(a_->Stat("foreign_tokens"), 0);
  EXPECT_EQ(b_->Stat("foreign_tokens"), 0);
}

// Access tokens of 10 s at both issuers, which rotate refresh tokens and revoke the whole grant
// when a used one comes back: over about three lifetimes every call of both profiles answers
// with a token its issuer accepts, and each profile refreshes about once per lifetime for all
// its callers (the agent hands out a token with at least a quarter of its life left: 4/3
// refreshes per lifetime), never once per call, nor once per caller that waited for it.
TEST_F(TwoOidcProviders, ShortLivedTokensAreRefreshedOncePerLifetimeByEachProfile) {
  constexpr int kLifetime = 10;
  StartIssuers(kLifetime);
  SignIn("");
  SignIn("staging");
  const absl::Time start = absl::Now();
  auto tokens = Hammer(2, 0, absl::Seconds(3 * kLifetime));
  const double lifetimes = absl::ToDoubleSeconds(absl::Now() - start) / kLifetime;
  for (OidcIssuer* issuer : {&*a_, &*b_}) {
    const int refreshes = issuer->Stat("refreshes");
    std::printf("FIGURE oidc.refreshes_per_lifetime %.2f\n", refreshes / lifetimes);
    EXPECT_GE(refreshes, 2) << "over " << lifetimes << " lifetimes";
    // A refresh when a quarter of the life is left: 4/3 per lifetime, whoever calls.
    EXPECT_LE(refreshes, static_cast<int>(lifetimes * 4 / 3) + 2) << "per lifetime, not per call";
    EXPECT_EQ(issuer->Stat("refresh_reuses"), 0);
    EXPECT_EQ(issuer->Stat("foreign_tokens"), 0);
  }
  EXPECT_GE(tokens[""].size(), 3u);
  EXPECT_GE(tokens["staging"].size(), 3u);
  EXPECT_EQ(Datagen({"auth", "status", "--all"}).exit_code, 0);
}

// Every door another program has to the session (exec's environment, the C++ library in
// tools/whoami, the Python client) hands out a token that a certified provider accepts, for the
// profile asked and at its own issuer only; exec's child sees no other secret of the issuer's.
TEST_F(TwoOidcProviders, ExecAndTheLibrariesHandOutTokensTheRealIssuerAccepts) {
  StartIssuers(3600);
  SignIn("");
  SignIn("staging");
  std::vector<std::string> environment = env_.Env({"DATAGEN_API_URL=" + a_->url()});

  // exec: the child's environment names the staging issuer and holds a token b accepts.
  RunResult child = RunProcess(
      {E2eEnv::DatagenBinary(), "auth", "exec", "--profile", "staging", "--", "/usr/bin/env"},
      environment);
  ASSERT_EQ(child.exit_code, 0) << child.err;
  EXPECT_THAT(child.out, HasSubstr("DATAGEN_API_URL=" + b_->url() + "\n"));
  EXPECT_THAT(child.out, HasSubstr("DATAGEN_PROFILE=staging\n"));
  EXPECT_THAT(child.out, HasSubstr("DATAGEN_ORG=staging-org\n"));
  const size_t at = child.out.find("DATAGEN_TOKEN=");
  ASSERT_NE(at, std::string::npos);
  const std::string token = child.out.substr(at + 14, child.out.find('\n', at) - at - 14);
  EXPECT_EQ(b_->Userinfo(token), 200);
  for (const std::string& secret : b_->Secrets()) {
    if (secret != token) {
      EXPECT_EQ(child.out.find(secret), std::string::npos) << "a refresh token";
    }
  }

  // The C++ library: whoami asks the agent, then b's userinfo (found by b's discovery).
  RunResult who = env_.RunCommand({Runfile("tools/whoami/whoami"), "--profile", "staging"},
                                  {"DATAGEN_API_URL=" + a_->url()});
  ASSERT_EQ(who.exit_code, 0) << who.err;
  EXPECT_EQ(who.out, "email you@staging.example\norg staging-org\nissuer " + b_->url() + "\n");

  // The Python client, for each profile: each token is accepted by its own issuer only.
  std::vector<std::string> python_env =
      env_.Env({"DATAGEN_API_URL=" + a_->url(), "PYTHONPATH=" + Runfile("client/python"),
                "PATH=" + Dirname(E2eEnv::DatagenBinary()) + ":" + Dirname(E2eEnv::AgentBinary()) +
                    ":/usr/bin:/bin"});
  RunResult py = RunProcess({"/usr/bin/python3", "-c",
                             "import datagen_auth as d\n"
                             "print(d.token())\n"
                             "c = d.credentials(profile='staging')\n"
                             "print(c.token)\n"
                             "print(c.api_url)\n"},
                            python_env);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  std::vector<std::string> lines = absl::StrSplit(py.out, '\n');
  ASSERT_GE(lines.size(), 3u) << "python printed " << lines.size() << " lines";
  EXPECT_EQ(a_->Userinfo(lines[0]), 200);
  EXPECT_EQ(b_->Userinfo(lines[1]), 200);
  EXPECT_EQ(lines[2], b_->url());
  EXPECT_EQ(a_->Stat("foreign_tokens"), 0);
  EXPECT_EQ(b_->Stat("foreign_tokens"), 0);
}

}  // namespace
}  // namespace datagen::testing
