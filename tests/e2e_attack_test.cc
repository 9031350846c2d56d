// Trust, round two (issue 21): each finding of the second attack on the installed product,
// reproduced as the attack or the fault it was, and shown to fail now. Two uids where the
// finding needs two (setpriv; root ignores file modes and owners, so the victim is a uid of its
// own). Finding 9 (suspend) needs a clock that stops while boot time goes on: it is shown with
// the agent's injected clock in session_test and wake_loop_test, which no real machine here
// can do on demand.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kAttacker = 65534;

int VictimUid() { return 61000 + getpid() % 4000; }

// Runs `argv` as `uid` (its own group, no supplementary groups).
RunResult RunAs(int uid, std::vector<std::string> argv, const std::vector<std::string>& env) {
  argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=" + std::to_string(uid),
                             "--regid=" + std::to_string(uid), "--clear-groups"});
  return RunProcess(argv, env, absl::Seconds(30));
}

// --- 1. A helper run from the working folder ------------------------------------------------

// `datagen` and `datagen-agent` copied to a folder without the helper (as a user who copies two
// binaries to ~/bin would), run from inside a folder that holds a file named datagen-agent-http.
// That file used to run as the user on every HTTP exchange and saw every token. Now the agent
// refuses to start, the CLI shows the installation error, and the file never runs, also with
// "." on PATH.
TEST(E2eAttack, AHelperInTheWorkingFolderNeverRuns) {
  E2eEnv env;
  std::string bin = env.dir() + "/bin", trap = env.dir() + "/trap";
  std::filesystem::create_directories(bin);
  std::filesystem::create_directories(trap);
  std::filesystem::copy_file(E2eEnv::DatagenBinary(), bin + "/datagen");
  std::filesystem::copy_file(E2eEnv::AgentBinary(), bin + "/datagen-agent");
  std::string ran = env.dir() + "/the-trap-ran";
  WriteFile(trap + "/datagen-agent-http", "#!/bin/sh\ntouch " + ran + "\ncat >/dev/null\n", 0755);
  env.WriteCredentials(env.MintToken());
  for (std::string path : {"/usr/bin:/bin", ".:/usr/bin:/bin", ":/usr/bin:/bin"}) {
    SCOPED_TRACE("PATH=" + path);
    RunResult r = env.RunCommand(
        {"/bin/sh", "-c", "cd " + trap + " && exec " + bin + "/datagen auth status --verify"},
        {"PATH=" + path});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("installation error: the agent's HTTP helper datagen-agent-http"));
    EXPECT_THAT(r.err, HasSubstr("--http-helper=/absolute/path"));
    EXPECT_FALSE(std::filesystem::exists(ran)) << "the file in the working folder ran";
    EXPECT_EQ(env.AgentPid(), -1) << "no agent runs without its own helper";
  }
  // A helper given by flag must be an absolute path.
  RunResult relative = env.RunCommand(
      {"/bin/sh", "-c",
       "cd " + trap + " && exec " + E2eEnv::AgentBinary() + " --http-helper=datagen-agent-http"});
  EXPECT_EQ(relative.exit_code, 1);
  EXPECT_THAT(relative.err, HasSubstr("--http-helper must be an absolute path"));
  EXPECT_FALSE(std::filesystem::exists(ran));
}

// The helper gets the proxy and CA variables and nothing else: no LD_PRELOAD (or anything else)
// from whichever shell started the agent. The agent itself leaves the folder it was started in.
TEST(E2eAttack, TheHelperGetsOnlyProxyAndCaVariablesAndTheAgentLeavesItsWorkingFolder) {
  E2eEnv env;
  std::string seen = env.dir() + "/helper-environment";
  std::string helper = env.dir() + "/recording-helper";
  WriteFile(helper, "#!/bin/sh\nenv >" + seen + "\ncat >/dev/null\nexit 3\n", 0755);
  std::string folder = env.dir() + "/somewhere";
  std::filesystem::create_directories(folder);
  Child agent({"/bin/sh", "-c",
               "cd " + folder + " && exec " + E2eEnv::AgentBinary() + " --http-helper=" + helper},
              env.Env({"LD_PRELOAD=/nonexistent/preload.so", "DATAGEN_SECRET_OF_THE_SHELL=1",
                       "HTTPS_PROXY=http://proxy.invalid:3128", "NO_PROXY=localhost",
                       "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}),
              env.dir() + "/agent.out", env.dir() + "/agent.err");
  ASSERT_TRUE(WaitUntil([&] { return env.AgentPid() > 0; })) << ReadFile(env.dir() + "/agent.err");
  char cwd[4096] = "";
  ssize_t n =
      readlink(absl::StrCat("/proc/", env.AgentPid(), "/cwd").c_str(), cwd, sizeof(cwd) - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(cwd, n), "/") << "the agent keeps the auto-starting shell's folder";
  env.WriteCredentials(env.MintToken());
  RunResult r = env.Datagen({"auth", "status", "--verify"}, {"DATAGEN_NO_AUTOSTART=1"});
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_TRUE(WaitUntil([&] { return !ReadFile(seen).empty(); }));
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(ReadFile(seen), '\n', absl::SkipEmpty())) {
    names.emplace_back(line.substr(0, line.find('=')));
  }
  // What /bin/sh itself sets (PWD, SHLVL, _) is the shell's, not the agent's.
  names.erase(
      std::remove_if(names.begin(), names.end(),
                     [](const std::string& n) { return n == "PWD" || n == "SHLVL" || n == "_"; }),
      names.end());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE"));
  env.StopAgent();
}

// --- 2. A prompt file of another user believed ------------------------------------------------

// Without XDG_RUNTIME_DIR the prompt file is /tmp/datagen-<uid>/prompt. Another user who creates
// that folder first writes what the victim's prompt shows: a fake "[prod]", escapes, % codes.
TEST(E2eAttack, APromptFileOfAnotherUserShowsNothing) {
  E2eEnv env;
  const int victim = VictimUid();
  const std::string folder = absl::StrCat("/tmp/datagen-", victim);
  std::filesystem::remove_all(folder);
  chmod(env.dir().c_str(), 0711);
  std::string script = env.dir() + "/datagen-prompt.sh";
  WriteFile(script, ReadFile(Runfile("tools/shell/datagen-prompt.sh")), 0644);
  std::string home = env.dir() + "/victim-home";
  std::filesystem::create_directories(home);
  ASSERT_EQ(chown(home.c_str(), victim, victim), 0);
  auto prompt_of_victim = [&](const std::string& shell, const std::string& file) {
    std::string line = ". " + script + (file.empty() ? "" : "; DATAGEN_PROMPT_FILE=" + file) +
                       "; datagen_prompt_update; printf '<%s>' \"$DATAGEN_PROMPT_ORG\"";
    RunResult r = RunAs(victim, {shell, "-c", line}, {"PATH=/usr/bin:/bin", "HOME=" + home});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  // A live pid (this test's), so that only ownership, mode and the org's alphabet decide.
  const std::string live = std::to_string(getpid());
  // The attacker's folder and file, found where the victim's prompt looks.
  ASSERT_EQ(mkdir(folder.c_str(), 0755), 0);
  WriteFile(folder + "/prompt", "datagen-prompt 1 " + live + " signed_in prod\n", 0644);
  ASSERT_EQ(chown(folder.c_str(), kAttacker, kAttacker), 0);
  ASSERT_EQ(chown((folder + "/prompt").c_str(), kAttacker, kAttacker), 0);
  for (const char* shell : {"/bin/bash", "/usr/bin/zsh"}) {
    SCOPED_TRACE(shell);
    EXPECT_EQ(prompt_of_victim(shell, ""), "<>") << "another user's folder";
  }
  // The victim's own folder, with files the victim did not write that way.
  std::filesystem::remove_all(folder);
  ASSERT_EQ(mkdir(folder.c_str(), 0700), 0);
  ASSERT_EQ(chown(folder.c_str(), victim, victim), 0);
  struct Case {
    std::string what, line;
    int owner, mode;
    std::string expected_bash, expected_zsh;
  };
  const std::vector<Case> cases = {
      {"the victim's own line (control)", "signed_in acme", victim, 0600, "<[acme] >", "<[acme] >"},
      {"a file of another user", "signed_in prod", kAttacker, 0644, "<>", "<>"},
      {"terminal escapes in the org", "signed_in \x1b]0;owned\x07", victim, 0600, "<>", "<>"},
      {"zsh prompt codes in the org", "signed_in %F{red}prod", victim, 0600, "<>", "<>"},
      {"pid 1", "signed_in prod", victim, 0600, "<>", "<>"},
      // bash cannot read a mode without a process: there the owner check and the agent's
      // 0600-only writes stand for it (tools/shell/datagen-prompt.sh says so); zsh checks it.
      {"a file writable by others", "signed_in acme", victim, 0666, "<[acme] >", "<>"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::string pid = c.what == "pid 1" ? "1" : live;
    std::string file = folder + "/prompt";
    unlink(file.c_str());
    WriteFile(file, "datagen-prompt 1 " + pid + " " + c.line + "\n", c.mode);
    chmod(file.c_str(), c.mode);
    ASSERT_EQ(chown(file.c_str(), c.owner, c.owner), 0);
    EXPECT_EQ(prompt_of_victim("/bin/bash", file), c.expected_bash);
    EXPECT_EQ(prompt_of_victim("/usr/bin/zsh", file), c.expected_zsh);
  }
  std::filesystem::remove_all(folder);
}

// --- 3. Newlines forging lines ------------------------------------------------------------------

constexpr char kForgingUser[] = R"({"users": [{"email": "you@yourcompany.com\nERROR forged",
  "sub": "u1", "memberships": [{"slug": "yourcompany",
  "role": "member\nactive_org_slug: production\nrole: admin", "default": true}]}]})";

TEST(E2eAttack, ANewlineFromTheServerForgesNoLine) {
  E2eEnv::Options options;
  options.users_json = kForgingUser;
  E2eEnv env(options);
  ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&auto_approve_after=0"), 200);
  RunResult login = env.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_THAT(login.out, HasSubstr("email: you@yourcompany.com\\nERROR forged\n"));
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "email: you@yourcompany.com\\nERROR forged\nactive_org_slug: yourcompany\n"
            "role: member\\nactive_org_slug: production\\nrole: admin\n");
  RunResult orgs = env.Datagen({"auth", "org", "--list"});
  EXPECT_THAT(orgs.out, HasSubstr("- yourcompany (member\\nactive_org_slug: production\\nrole: "
                                  "admin, active)\n"));
  // JSON keeps the exact string.
  RunResult json = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_THAT(json.out, HasSubstr(R"("role":"member\nactive_org_slug: production\nrole: admin")"));
  // No log line starts with anything but the agent's own timestamp.
  for (absl::string_view line : absl::StrSplit(env.AgentLog(), '\n', absl::SkipEmpty())) {
    EXPECT_THAT(std::string(line), ContainsRegex("^20[0-9][0-9]-")) << "a forged log line";
  }
  // An OAuth error_description with newlines stays on its error line.
  env.Datagen({"auth", "logout"});
  ASSERT_EQ(env.AdminPost("/_admin/config", "auto_approve_after=-1"), 200);
  ASSERT_EQ(env.AdminPost("/_admin/fault", "token=newline"), 200);
  RunResult denied = env.Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(denied.exit_code, 1) << denied.out << denied.err;
  EXPECT_THAT(denied.err, HasSubstr("denied\\nERROR forged line\\nstatus: authenticated"));
  EXPECT_THAT(denied.out + denied.err, Not(ContainsRegex("(^|\n)status: authenticated")));
  EXPECT_THAT(denied.out + denied.err, Not(ContainsRegex("(^|\n)ERROR forged")));
}

// --- 4. Proxy passwords shown -------------------------------------------------------------------

TEST(E2eAttack, AProxyPasswordReachesNoScreenAndNoLog) {
  E2eEnv env;
  // Malformed on purpose (curl quotes it whole in its error), with '@' inside the password.
  const std::string proxy = "HTTPS_PROXY=htp://alice:s3cr@t-pw@proxy.invalid:3128";
  // The agent is started by the first command, so it inherits the proxy setting; the issuer is
  // https so that curl uses the proxy (loopback is never proxied).
  const std::vector<std::string> extra = {proxy, "DATAGEN_API_URL=https://id.invalid"};
  RunResult status = env.Datagen({"auth", "login", "--no-browser"}, extra);
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(status.err, HasSubstr("could not reach id.invalid"));
  RunResult json = env.Datagen({"auth", "login", "--no-browser", "--format", "json"}, extra);
  RunResult doctor = env.Datagen({"auth", "doctor"}, extra);
  RunResult doctor_json = env.Datagen({"auth", "doctor", "--format", "json"}, extra);
  std::string everything = status.out + status.err + json.out + json.err + doctor.out + doctor.err +
                           doctor_json.out + doctor_json.err + env.AgentLog();
  EXPECT_THAT(everything, Not(HasSubstr("s3cr"))) << everything;
  EXPECT_THAT(everything, Not(HasSubstr("t-pw"))) << everything;
  EXPECT_THAT(doctor.out, HasSubstr("HTTPS_PROXY=htp://***@proxy.invalid:3128"));
}

// --- 5. A phishing verification page -------------------------------------------------------------

TEST(E2eAttack, AVerificationPageOffTheIssuerOverHttpIsRefusedBeforeACodeIsShown) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/fault", "device_reply=phishing"), 200);
  RunResult r = env.Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, Not(HasSubstr("User code")));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("WDJB-MJHT")));
  EXPECT_THAT(r.err, HasSubstr("the server asked to send you to http://evil.example/device"));
  EXPECT_THAT(r.err, HasSubstr("must be https"));
  RunResult json = env.Datagen({"auth", "login", "--no-browser", "--format", "json"});
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_THAT(json.out, Not(HasSubstr("user_code")));
  EXPECT_THAT(json.out, HasSubstr("\"code\":\"failed_precondition\""));
}

TEST(E2eAttack, AnHttpsPageOnAnotherHostIsNamedOnItsOwnLineWithTheCode) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/fault", "device_reply=elsewhere"), 200);
  ASSERT_EQ(env.AdminPost("/_admin/fault", "token=deny"), 200);  // ends the login at once
  RunResult r = env.Datagen({"auth", "login", "--no-browser"});
  EXPECT_THAT(r.out, HasSubstr("User code: WDJB-MJHT\n"));
  EXPECT_THAT(r.out, HasSubstr("Verify at: https://login.elsewhere.example/device\n"));
  EXPECT_THAT(r.err, ContainsRegex("(^|\n)note: the verification page is on "
                                   "login\\.elsewhere\\.example, not on the identity server "
                                   "127\\.0\\.0\\.1\n"));
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("note: this code signs in datagen on ", host,
                                            "; confirm it only if you started this login there")));
  ASSERT_EQ(env.AdminPost("/_admin/fault", "token=deny"), 200);
  RunResult json = env.Datagen({"auth", "login", "--no-browser", "--format", "json"});
  EXPECT_THAT(json.out, HasSubstr("\"verification_host\":\"login.elsewhere.example\""));
  EXPECT_THAT(json.out, HasSubstr("\"issuer_host\":\"127.0.0.1\""));
}

// --- 6. Discovery's issuer, and a file without api_url -----------------------------------------

TEST(E2eAttack, DiscoveryNamingAnotherIssuerIsRefusedAndNothingIsSentToItsEndpoints) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  ASSERT_EQ(env.AdminPost("/_admin/fault", "discovery_issuer=https://evil.example"), 200);
  RunResult r = env.Datagen({"auth", "status", "--verify"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("names the issuer \"https://evil.example\", not the configured " +
                               env.api_url()));
  RunResult login = env.Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(login.exit_code, 1);
  EXPECT_THAT(login.out, Not(HasSubstr("User code")));
  EXPECT_TRUE(env.Grants().empty()) << "a login was started at the refused endpoints";
}

TEST(E2eAttack, ACredentialsFileWithoutApiUrlSendsItsTokenNowhereButTheDefaultIssuer) {
  E2eEnv env;
  std::string token = env.MintToken();
  // Hand-written: no api_url. The agent is configured for the fake server, not the default.
  mkdir((env.dir() + "/cfg/datagen").c_str(), 0700);
  WriteFile(env.credentials_path(),
            R"({"token":")" + token +
                R"(","email":"you@yourcompany.com","active_org_slug":"yourcompany"})",
            0600);
  for (std::vector<std::string> args : {std::vector<std::string>{"auth", "status"},
                                        {"auth", "status", "--verify"},
                                        {"auth", "org", "--list"}}) {
    RunResult r = env.Datagen(args);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("the session's identity server is unknown"));
    EXPECT_THAT(r.err, HasSubstr("datagen auth login"));
  }
  // Not one request carried it: the server saw no userinfo call at all.
  RunResult stats = env.RunCommand({"/usr/bin/curl", "-s", env.api_url() + "/_admin/stats"});
  EXPECT_THAT(stats.out, ContainsRegex("\"userinfo_requests\": ?0[,}]")) << stats.out;
  RunResult doctor = env.Datagen({"auth", "doctor"});
  EXPECT_THAT(doctor.out, ContainsRegex("FAIL +credentials +signed in as you@yourcompany.com at an "
                                        "unknown server"));
}

// --- 8. doctor with no agent running -------------------------------------------------------------

TEST(E2eAttack, DoctorWithNoAgentRunningStartsItAndNamesAnUnreachableServer) {
  E2eEnv env(WithDiscovery(""));  // DATAGEN_API_URL: a closed loopback port
  ASSERT_EQ(env.AgentPid(), -1);
  RunResult r = env.Datagen({"auth", "doctor"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out,
              ContainsRegex("ok +agent +datagen-agent .* \\(it was not running: it starts on "
                            "demand, and started for these checks\\)"));
  EXPECT_THAT(r.out, Not(HasSubstr("auto-start is off")));
  EXPECT_THAT(r.out, ContainsRegex("FAIL +discovery +cannot reach http://127.0.0.1:"));
}

TEST(E2eAttack, DoctorWithNoAgentRunningNamesAServerClockTenMinutesOff) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config", "clock_offset=600"), 200);
  ASSERT_EQ(env.AgentPid(), -1);
  RunResult r = env.Datagen({"auth", "doctor"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ContainsRegex("warn +clock +the server's clock is (9m5[0-9]s|10m[0-9]?s?) "
                                   "ahead of this machine's"));
}

TEST(E2eAttack, DoctorWithNoAutostartSaysSoAndStartsNothing) {
  E2eEnv env;
  RunResult r = env.Datagen({"auth", "doctor", "--no-autostart"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ContainsRegex("warn +agent +not running \\(it starts on demand\\); auto-start "
                                   "is off here"));
  EXPECT_EQ(env.AgentPid(), -1);
  struct stat st;
  EXPECT_NE(stat(env.socket_path().c_str(), &st), 0);
}

}  // namespace
}  // namespace datagen::testing
