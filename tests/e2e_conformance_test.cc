// The conformance suite (issue 14): every row of docs/cli.md's tables and every example of the
// product documentation (the seed documentation the README's examples follow), run against the real
// binaries and the fake identity server, checking output (text and JSON), exit code and files. Each
// row is one test named after the spec line it checks, so a failure names its row, and a spec line
// without a row here stands out.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/datagen/agent/v1/agent.pb.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

int Mode(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Logs in through the device flow, the server approving at once, with `extra` env.
RunResult Login(E2eEnv& env, const std::vector<std::string>& args = {"auth", "login"},
                const std::vector<std::string>& extra = {"BROWSER=/bin/true"}) {
  EXPECT_EQ(env.AdminPost("/_admin/config", "interval=1&auto_approve_after=0"), 200);
  return env.Datagen(args, extra);
}

struct Row {
  std::string spec;  // the spec line, as a test name
  std::function<void(E2eEnv&)> check;
};

const std::vector<Row>& Rows() {
  static const auto* rows = new std::vector<Row>{
      // --- The product documentation's examples -----------------------------------------
      {"Docs_AuthLogin_Example",
       [](E2eEnv& env) {
         RunResult r = Login(env);
         EXPECT_EQ(r.exit_code, 0) << r.err;
         std::string url = std::regex_replace(env.api_url(), std::regex("\\."), "\\.");
         EXPECT_THAT(r.out, MatchesRegex("User code: [A-Z]{4}-[A-Z]{4}\n"
                                         "Verify at: " +
                                         url +
                                         "/device\n"
                                         "Opening: " +
                                         url +
                                         "/device\\?user_code=[A-Z]{4}-[A-Z]{4}\n"
                                         "status: authenticated\n"
                                         "email: you@yourcompany\\.com\n"
                                         "active_org_slug: yourcompany\n"));
       }},
      {"Docs_AuthLogin_WritesTheCredentialsFile0600WithTokenEmailOrgStoredAt",
       [](E2eEnv& env) {
         ASSERT_EQ(Login(env).exit_code, 0);
         EXPECT_EQ(Mode(env.credentials_path()), 0600);
         EXPECT_EQ(Mode(env.dir() + "/cfg/datagen"), 0700);
         agent::v1::Credentials c;
         ASSERT_TRUE(ParseJson(ReadFile(env.credentials_path()), "credentials", &c).ok());
         EXPECT_FALSE(c.token().empty());
         env.AddSecret(c.token());
         EXPECT_EQ(c.email(), "you@yourcompany.com");
         EXPECT_EQ(c.active_org_slug(), "yourcompany");
         EXPECT_TRUE(c.has_stored_at());
         EXPECT_THAT(ReadFile(env.credentials_path()),
                     HasSubstr("\"stored_at\": \"20"));  // RFC 3339 UTC (docs/cli.md)
       }},
      {"Docs_AuthLogout_RevokesAndDeletes",
       [](E2eEnv& env) {
         std::string token = env.MintToken();
         env.WriteCredentials(token);
         RunResult r = env.Datagen({"auth", "logout"});
         EXPECT_EQ(r.exit_code, 0) << r.err;
         EXPECT_EQ(r.out, "status: logged_out\n");
         EXPECT_FALSE(Exists(env.credentials_path()));
         EXPECT_TRUE(WaitUntil([&] { return !env.TokenActive(token); })) << "revoked server-side";
       }},
      {"Docs_AuthLogout_NoCredentialExitsCleanly",
       [](E2eEnv& env) {
         RunResult r = env.Datagen({"auth", "logout"});
         EXPECT_EQ(r.exit_code, 0);
         EXPECT_EQ(r.out, "status: no_credential\n");
       }},
      {"Docs_AuthStatus_Example",
       [](E2eEnv& env) {
         env.WriteCredentials(env.MintToken());
         RunResult r = env.Datagen({"auth", "status"});
         EXPECT_EQ(r.exit_code, 0);
         EXPECT_EQ(r.out,
                   "email: you@yourcompany.com\nactive_org_slug: yourcompany\nrole: admin\n");
         EXPECT_THAT(r.err, IsEmpty());
       }},
      {"Docs_AuthOrgList_Example",
       [](E2eEnv& env) {
         env.WriteCredentials(env.MintToken());
         RunResult r = env.Datagen({"auth", "org", "--list"});
         EXPECT_EQ(r.exit_code, 0);
         EXPECT_EQ(r.out,
                   "active_org_slug: yourcompany\nmemberships:\n- yourcompany (admin, active)\n"
                   "- test-org (member)\n");
       }},
      {"Docs_AuthOrgUse_ExampleAndTheFileUpdated",
       [](E2eEnv& env) {
         env.WriteCredentials(env.MintToken());
         RunResult r = env.Datagen({"auth", "org", "--use", "test-org"});
         EXPECT_EQ(r.exit_code, 0);
         EXPECT_EQ(r.out, "email: you@yourcompany.com\nactive_org_slug: test-org\nrole: member\n");
         EXPECT_THAT(ReadFile(env.credentials_path()),
                     HasSubstr("\"active_org_slug\": \"test-org\""));
         EXPECT_EQ(env.Datagen({"auth", "status"}).out,
                   "email: you@yourcompany.com\nactive_org_slug: test-org\nrole: member\n")
             << "every subsequent command scopes to that organization";
       }},
      {"Docs_AuthOrg_ExactlyOneOfListOrUse",
       [](E2eEnv& env) {
         env.WriteCredentials(env.MintToken());
         for (auto args : std::vector<std::vector<std::string>>{
                  {"auth", "org"}, {"auth", "org", "--list", "--use", "test-org"}}) {
           RunResult r = env.Datagen(args);
           EXPECT_EQ(r.exit_code, 2);
           EXPECT_THAT(r.err, StartsWith("error: auth org needs exactly one of --list or --use"));
         }
       }},
      {"Docs_FormatFlag_EveryCommandTakesTextOrJson",
       [](E2eEnv& env) {
         env.WriteCredentials(env.MintToken());
         for (auto args :
              std::vector<std::vector<std::string>>{{"auth", "status"},
                                                    {"auth", "org", "--list"},
                                                    {"auth", "org", "--use", "yourcompany"},
                                                    {"auth", "logout"}}) {
           std::vector<std::string> text = args, json = args;
           text.insert(text.end(), {"--format", "text"});
           json.insert(json.end(), {"--format", "json"});
           if (args[1] != "logout") {
             EXPECT_EQ(env.Datagen(text).exit_code, 0) << absl::StrJoin(text, " ");
           }
           RunResult r = env.Datagen(json);
           EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(json, " ");
           EXPECT_THAT(r.out, StartsWith("{"));
         }
       }},
      // --- docs/cli.md: Output ---------------------------------------------------------------
      {"CliMd_Output_JsonHasTheTextFormsKeys",
       [](E2eEnv& env) {
         env.WriteCredentials(env.MintToken());
         RunResult r = env.Datagen({"auth", "status", "--format", "json"});
         for (const char* key : {"\"email\":\"you@yourcompany.com\"",
                                 "\"active_org_slug\":\"yourcompany\"", "\"role\":\"admin\""}) {
           EXPECT_THAT(r.out, HasSubstr(key));
         }
         r = env.Datagen({"auth", "org", "--list", "--format", "json"});
         EXPECT_THAT(r.out,
                     HasSubstr("\"memberships\":[{\"slug\":\"yourcompany\",\"role\":\"admin\","
                               "\"active\":true},{\"slug\":\"test-org\",\"role\":\"member\","
                               "\"active\":false}]"));
         r = env.Datagen({"auth", "logout", "--format", "json"});
         EXPECT_THAT(r.out, HasSubstr("\"status\":\"logged_out\""));
       }},
      {"CliMd_Output_LoginJsonLinesDeviceCodeThenResult",
       [](E2eEnv& env) {
         RunResult r = Login(env, {"auth", "login", "--format", "json", "--no-browser"}, {});
         EXPECT_EQ(r.exit_code, 0) << r.err;
         std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
         ASSERT_EQ(lines.size(), 2u) << r.out;
         for (const char* key : {"\"user_code\":", "\"verification_uri\":",
                                 "\"verification_uri_complete\":", "\"expires_in\":"}) {
           EXPECT_THAT(lines[0], HasSubstr(key));
         }
         EXPECT_THAT(lines[1], HasSubstr("\"status\":\"authenticated\""));
         EXPECT_THAT(lines[1], HasSubstr("\"email\":\"you@yourcompany.com\""));
         EXPECT_THAT(lines[1], HasSubstr("\"active_org_slug\":\"yourcompany\""));
       }},
      {"CliMd_Output_ErrorsOnStderrWithWhatToDoNext",
       [](E2eEnv& env) {
         RunResult r = env.Datagen({"auth", "status"});
         EXPECT_EQ(r.err, "error: not signed in\nrun: datagen auth login\n");
         EXPECT_THAT(r.out, IsEmpty());
       }},
      {"CliMd_Output_JsonErrorsAreAnObjectOnStdout",
       [](E2eEnv& env) {
         RunResult r = env.Datagen({"auth", "status", "--format", "json"});
         EXPECT_EQ(r.out,
                   "{\"error\":{\"code\":\"unauthenticated\",\"message\":\"not signed in\"}}\n");
         r = env.Datagen({"auth", "frobnicate", "--format", "json"});
         EXPECT_EQ(r.exit_code, 2);
         EXPECT_EQ(
             r.out,
             "{\"error\":{\"code\":\"usage\",\"message\":\"unknown command: auth frobnicate\"}}\n");
       }},
      {"CliMd_Output_JsonErrorsEvenBeforeAnyCall",
       [](E2eEnv& env) {
         RunResult r = env.Datagen({"auth", "status", "--format", "json"},
                                   {"DATAGEN_AGENT_SOCKET=relative/agent.sock"});
         EXPECT_EQ(r.exit_code, 1);
         EXPECT_THAT(r.out, StartsWith("{\"error\":{\"code\":\"failed_precondition\""));
         EXPECT_THAT(r.err, StartsWith("error: agent socket path must be absolute"));
       }},
      {"CliMd_Commands_UsageErrorsExit2WithAOneLineHint",
       [](E2eEnv& env) {
         for (auto args :
              std::vector<std::vector<std::string>>{{"auth", "frobnicate"},
                                                    {"auth", "status", "--bogus"},
                                                    {"auth", "status", "--format", "yaml"},
                                                    {"auth", "org", "--use"}}) {
           RunResult r = env.Datagen(args);
           EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ");
           std::vector<std::string> lines = absl::StrSplit(r.err, '\n', absl::SkipEmpty());
           ASSERT_EQ(lines.size(), 2u) << r.err;
           EXPECT_THAT(lines[0], StartsWith("error: "));
           EXPECT_THAT(lines[1], StartsWith("usage: datagen auth "));
         }
       }},
      {"CliMd_Output_TheTokenAppearsOnlyInAuthToken",
       [](E2eEnv& env) {
         std::string token = env.MintToken();  // every output is checked for it (E2eEnv)
         env.WriteCredentials(token);
         for (auto args :
              std::vector<std::vector<std::string>>{{"auth", "status", "--format", "json"},
                                                    {"auth", "org", "--list", "--format", "json"},
                                                    {"auth", "doctor", "--format", "json"},
                                                    {"auth", "status", "--watch", "--help"}}) {
           (void)env.Datagen(args);
         }
         RunResult r = RunProcess({E2eEnv::DatagenBinary(), "auth", "token"}, env.Env());
         EXPECT_EQ(r.out, token + "\n");
       }},
      // --- docs/cli.md: Exit codes -----------------------------------------------------------
      {"CliMd_ExitCodes_0_1_2_4_130",
       [](E2eEnv& env) {
         EXPECT_EQ(env.Datagen({"auth", "logout"}).exit_code, 0);
         EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
         EXPECT_EQ(env.Datagen({"auth", "nope"}).exit_code, 2);
         env.WriteCredentials(env.MintToken());
         ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
         env.StopServer();
         EXPECT_EQ(env.Datagen({"auth", "status", "--verify"}).exit_code, 1);
       }},
      {"CliMd_ExitCodes_130_CtrlCDuringLogin",
       [](E2eEnv& env) {
         ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&auto_approve_after=-1"), 200);
         Child login = env.StartDatagen({"auth", "login", "--no-browser"}, "login");
         ASSERT_TRUE(env.AwaitOutput("login", "User code:"));
         login.Signal(SIGINT);
         EXPECT_EQ(login.Wait(), 130);
         EXPECT_FALSE(Exists(env.credentials_path()));
       }},
      {"CliMd_ExitCodes_StatusNeverWaitsOnTheNetworkUnlessVerify",
       [](E2eEnv& env) {
         env.WriteCredentials(env.MintToken());
         ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
         env.StopServer();
         RunResult r = env.Datagen({"auth", "status"});
         EXPECT_EQ(r.exit_code, 0) << "answered from memory";
         EXPECT_EQ(env.Datagen({"auth", "org", "--list"}).exit_code, 0);
         EXPECT_EQ(env.Datagen({"auth", "status", "--verify"}).exit_code, 1);
       }},
      // --- docs/cli.md: Browser ----------------------------------------------------------------
      {"CliMd_Browser_NoDisplayOpensNothingButPrintsTheCode",
       [](E2eEnv& env) {
         RunResult r = Login(env, {"auth", "login"}, {"BROWSER=", "DISPLAY=", "WAYLAND_DISPLAY="});
         EXPECT_EQ(r.exit_code, 0) << r.err;
         EXPECT_THAT(r.out, HasSubstr("User code: "));
         EXPECT_THAT(r.out, Not(HasSubstr("Opening: ")));
       }},
      {"CliMd_Browser_AFailingBrowserIsAWarningNotAnError",
       [](E2eEnv& env) {
         RunResult r = Login(env, {"auth", "login"}, {"BROWSER=/bin/false"});
         EXPECT_EQ(r.exit_code, 0) << r.err;
         EXPECT_THAT(r.err, HasSubstr("warning: "));
       }},
      // --- docs/cli.md: Files and environment ------------------------------------------------
      {"CliMd_Files_CredentialsUnderHomeConfigWithoutXdgConfigHome",
       [](E2eEnv& env) {
         ASSERT_EQ(Login(env, {"auth", "login", "--no-browser"}, {"XDG_CONFIG_HOME="}).exit_code,
                   0);
         std::string path = env.dir() + "/home/.config/datagen/credentials.json";
         EXPECT_TRUE(Exists(path));
         EXPECT_EQ(Mode(path), 0600);
       }},
      {"CliMd_Files_SocketAtDatagenAgentSocket",
       [](E2eEnv& env) {
         std::string socket = env.dir() + "/run/custom/agent.sock";
         EXPECT_EQ(env.Datagen({"auth", "status"}, {"DATAGEN_AGENT_SOCKET=" + socket}).exit_code,
                   4);
         struct stat st;
         ASSERT_EQ(lstat(socket.c_str(), &st), 0);
         EXPECT_TRUE(S_ISSOCK(st.st_mode));
         EXPECT_EQ(Mode(env.dir() + "/run/custom"), 0700);
         RunProcess({"/bin/sh", "-c", "kill $(cat " + socket + ".lock)"}, {});
       }},
      {"CliMd_Files_ACorruptFileIsReportedAndKeptAside",
       [](E2eEnv& env) {
         mkdir((env.dir() + "/cfg/datagen").c_str(), 0700);
         WriteFile(env.credentials_path(), "{ this is not json");
         RunResult r = env.Datagen({"auth", "status"});
         EXPECT_EQ(r.exit_code, 1);
         EXPECT_THAT(r.err, HasSubstr("corrupt"));
         EXPECT_THAT(r.err, HasSubstr("run: datagen auth login"));
         bool kept = false;
         for (const auto& e : std::filesystem::directory_iterator(env.dir() + "/cfg/datagen")) {
           kept = kept ||
                  (absl::StartsWith(e.path().filename().string(), "credentials.json.corrupt-") &&
                   ReadFile(e.path()) == "{ this is not json");
         }
         EXPECT_TRUE(kept);
       }},
      {"CliMd_Files_ALooseFileIsReportedAndTightened",
       [](E2eEnv& env) {
         env.WriteCredentials(env.MintToken());
         chmod(env.credentials_path().c_str(), 0644);
         RunResult r = env.Datagen({"auth", "status"});
         EXPECT_EQ(r.exit_code, 0);
         EXPECT_THAT(r.err, HasSubstr("0600"));
         EXPECT_EQ(Mode(env.credentials_path()), 0600);
       }},
      // --- docs/development.md: the fake identity server's documented flags ----------------
      {"Readme_FakeServerTakesEveryDocumentedFlag",
       [](E2eEnv& env) {
         WriteFile(env.dir() + "/users.json",
                   R"({"users": [{"email": "a@b.example", "sub": "1", "memberships": []}]})");
         std::string port_file = env.dir() + "/fake.port";
         Child server({Runfile("tools/fake_server/fake_server"), "--port=0", "--discovery=rfc8414",
                       "--users=" + env.dir() + "/users.json", "--interval=2",
                       "--device_expires_in=60", "--auto_approve_after=1", "--token_expires_in=300",
                       "--refresh_tokens", "--client_id=my-client", "--port_file=" + port_file},
                      {}, env.dir() + "/fake.out", env.dir() + "/fake.err");
         ASSERT_TRUE(WaitUntil([&] { return !ReadFile(port_file).empty(); }))
             << ReadFile(env.dir() + "/fake.err");
         std::string port(absl::StripAsciiWhitespace(ReadFile(port_file)));
         RunResult r =
             RunProcess({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                         "http://127.0.0.1:" + port + "/.well-known/oauth-authorization-server"},
                        {});
         EXPECT_EQ(r.out, "200");
         server.Signal(SIGTERM);
         EXPECT_EQ(server.Wait(), 0);
         // Its --help lists those flags (it printed "No flags matched").
         RunResult help = RunProcess({Runfile("tools/fake_server/fake_server"), "--help"}, {});
         for (const char* flag :
              {"--port", "--discovery", "--users", "--interval", "--device_expires_in",
               "--auto_approve_after", "--token_expires_in", "--refresh_tokens", "--client_id",
               "--port_file"}) {
           EXPECT_THAT(help.out + help.err, HasSubstr(std::string(flag) + " (")) << flag;
         }
       }},
      // --- README: the agent's life and help (issue 22) ------------------------------------
      {"Readme_AgentStartStatusRestartStop",
       [](E2eEnv& env) {
         RunResult none = env.Datagen({"auth", "agent", "status", "--format", "json"});
         EXPECT_EQ(none.out, "{\"running\":false}\n");
         RunResult started = env.Datagen({"auth", "agent", "start", "--format", "json"});
         EXPECT_THAT(started.out, StartsWith("{\"running\":true,\"done\":\"started\",\"agent\":{"));
         pid_t first = env.AgentPid();
         RunResult restarted = env.Datagen({"auth", "agent", "restart", "--format", "json"});
         EXPECT_THAT(restarted.out,
                     StartsWith("{\"running\":true,\"done\":\"restarted\",\"agent\":{"));
         EXPECT_NE(env.AgentPid(), first);
         RunResult stopped = env.Datagen({"auth", "agent", "stop", "--format", "json"});
         EXPECT_EQ(stopped.out, "{\"running\":false,\"done\":\"stopped\"}\n");
         EXPECT_EQ(env.AgentPid(), -1);
         EXPECT_EQ(env.Datagen({"auth", "agent"}).exit_code, 2);
       }},
      {"Readme_EveryCommandsHelpAndAuthHelp",
       [](E2eEnv& env) {
         for (const char* command :
              {"login", "logout", "status", "token", "doctor", "org", "agent"}) {
           RunResult help = env.Datagen({"auth", command, "--help"});
           EXPECT_EQ(help.exit_code, 0) << command;
           EXPECT_THAT(help.out, StartsWith(std::string("usage: datagen auth ") + command));
           EXPECT_THAT(help.out, HasSubstr("\nexamples:\n  datagen auth "));
           EXPECT_EQ(env.Datagen({"auth", "help", command}).out, help.out) << command;
         }
         EXPECT_EQ(env.Datagen({"completion", "--help"}).exit_code, 0);
         EXPECT_EQ(env.AgentPid(), -1);
       }},
  };
  return *rows;
}

class Conformance : public ::testing::TestWithParam<size_t> {};

TEST_P(Conformance, Holds) {
  const Row& row = Rows()[GetParam()];
  SCOPED_TRACE("spec row: " + row.spec);
  E2eEnv env;
  row.check(env);
}

INSTANTIATE_TEST_SUITE_P(SpecRows, Conformance, ::testing::Range<size_t>(0, Rows().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return Rows()[info.param].spec;
                         });

}  // namespace
}  // namespace datagen::testing
