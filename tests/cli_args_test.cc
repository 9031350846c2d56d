#include "client/cli_args.h"

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace datagen::cli {
namespace {

using ::testing::HasSubstr;

ParseResult Parse(std::vector<std::string> args) { return ParseArgs(args); }

TEST(ParseArgs, Commands) {
  EXPECT_EQ(Parse({"auth", "status"}).invocation.command, Command::kStatus);
  EXPECT_EQ(Parse({"auth", "login"}).invocation.command, Command::kLogin);
  EXPECT_EQ(Parse({"auth", "logout"}).invocation.command, Command::kLogout);
  EXPECT_EQ(Parse({"auth", "org", "--list"}).invocation.command, Command::kOrgList);
  ParseResult use = Parse({"auth", "org", "--use", "test-org"});
  ASSERT_TRUE(use.ok);
  EXPECT_EQ(use.invocation.command, Command::kOrgUse);
  EXPECT_EQ(use.invocation.org_slug, "test-org");
  EXPECT_EQ(Parse({"auth", "org", "--use=x"}).invocation.org_slug, "x");
  EXPECT_EQ(Parse({"auth"}).invocation.command, Command::kHelp);
  EXPECT_EQ(Parse({}).invocation.command, Command::kHelp);
}

// Issue "Delegation": exec takes everything after `--` as the command, untouched.
TEST(ParseArgs, ExecTakesTheCommandAfterDashDashWordForWord) {
  ParseResult r = Parse({"auth", "exec", "--profile", "staging", "--min-valid", "10m", "--", "sh",
                         "-c", "exit 7", "--profile", "--"});
  ASSERT_TRUE(r.ok) << r.error.message;
  EXPECT_EQ(r.invocation.command, Command::kExec);
  EXPECT_EQ(r.invocation.profile, "staging");
  EXPECT_EQ(r.invocation.min_valid, absl::Minutes(10));
  EXPECT_EQ(r.invocation.exec_argv,
            (std::vector<std::string>{"sh", "-c", "exit 7", "--profile", "--"}));
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"auth", "exec"},
                                              {"auth", "exec", "--"},
                                              {"auth", "exec", "env"}}) {
    ParseResult e = Parse(bad);
    EXPECT_FALSE(e.ok);
    EXPECT_THAT(e.error.message, HasSubstr("needs a command after --"));
  }
  EXPECT_FALSE(Parse({"auth", "status", "--", "x"}).ok) << "only exec takes a command";
}

TEST(ParseArgs, MinValidIsADurationFromASecondToAWeek) {
  EXPECT_EQ(Parse({"auth", "token", "--min-valid", "90s"}).invocation.min_valid, absl::Seconds(90));
  EXPECT_EQ(Parse({"auth", "token", "--min-valid=1h30m"}).invocation.min_valid, absl::Minutes(90));
  for (const char* bad : {"soon", "0s", "-5m", "600", "8d", "169h"}) {
    ParseResult e = Parse({"auth", "token", "--min-valid", bad});
    EXPECT_FALSE(e.ok) << bad;
    EXPECT_THAT(e.error.message, HasSubstr("--min-valid takes a duration")) << bad;
  }
  EXPECT_FALSE(Parse({"auth", "status", "--min-valid", "10m"}).ok) << "only token and exec";
  EXPECT_EQ(Parse({"auth", "audit"}).invocation.command, Command::kAudit);
}

TEST(ParseArgs, CommonFlags) {
  ParseResult r = Parse({"auth", "status", "--format", "json", "--no-autostart"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.invocation.format, Format::kJson);
  EXPECT_TRUE(r.invocation.no_autostart);
  EXPECT_EQ(Parse({"auth", "status", "--format=text"}).invocation.format, Format::kText);
  EXPECT_TRUE(Parse({"auth", "login", "--no-browser"}).invocation.no_browser);
}

TEST(ParseArgs, UsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"auth", "nope"}, "unknown command: auth nope"},
           {{"login"}, "unknown command: login"},
           {{"auth", "status", "--format", "xml"}, "--format must be text or json, not xml"},
           {{"auth", "status", "--format"}, "--format needs a value"},
           {{"auth", "status", "--format", "json", "--format", "text"}, "given twice"},
           {{"auth", "org"}, "exactly one of --list or --use"},
           {{"auth", "org", "--list", "--use", "a"}, "exactly one of --list or --use"},
           {{"auth", "org", "--use"}, "--use needs an organization slug"},
           {{"auth", "org", "--use="}, "--use needs an organization slug"},
           {{"auth", "org", "--use", "a", "--use", "b"}, "--use given twice"},
           // Issue 22, bug 10: not a slug is a usage error (exit 2), not the server's answer.
           {{"auth", "org", "--use", "bad slug!"}, "'bad slug!' is not an organization slug"},
           {{"auth", "org", "--use", "a\nb"}, "'a\\nb' is not an organization slug"},
           {{"auth", "status", "--list"}, "unknown flag for auth status: --list"},
           {{"auth", "status", "--no-browser"}, "unknown flag"},
           {{"auth", "status", "now"}, "unexpected argument: now"},
           {{"auth", "status", "--verify", "--watch"}, "do not go together"},
           {{"auth", "org", "--use", "x", "--verify"}, "--verify goes with --list"},
           {{"auth", "token", "--verify"}, "unknown flag for auth token"},
       }) {
    ParseResult r = Parse(c.args);
    EXPECT_FALSE(r.ok) << c.message;
    EXPECT_THAT(r.error.message, HasSubstr(c.message));
    EXPECT_THAT(r.error.usage, HasSubstr("usage: datagen auth"));
  }
}

TEST(ParseArgs, VerifyAndWatch) {
  ParseResult r = Parse({"auth", "status", "--verify"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.invocation.command, Command::kStatus);
  EXPECT_TRUE(r.invocation.verify);
  EXPECT_TRUE(Parse({"auth", "org", "--list", "--verify"}).invocation.verify);
  EXPECT_EQ(Parse({"auth", "status", "--watch"}).invocation.command, Command::kWatch);
  EXPECT_EQ(Parse({"auth", "token"}).invocation.command, Command::kToken);
}

TEST(ParseArgs, AUsageErrorKeepsTheRequestedFormat) {
  ParseResult r = Parse({"auth", "org", "--format", "json"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.format, Format::kJson);
  EXPECT_EQ(Parse({"auth", "org", "--bogus", "--format=json"}).error.format, Format::kJson);
  // docs/cli.md: with --format json every error is also JSON, an unknown command's included,
  // wherever the flag is on the line.
  EXPECT_EQ(Parse({"auth", "frobnicate", "--format", "json"}).error.format, Format::kJson);
  EXPECT_EQ(Parse({"auth", "--format", "json", "frobnicate"}).error.format, Format::kJson);
  EXPECT_EQ(Parse({"frobnicate", "--format=json"}).error.format, Format::kJson);
}

TEST(ParseArgs, AMistypedCommandGetsASuggestion) {
  EXPECT_EQ(Parse({"auth", "stauts"}).error.message,
            "unknown command: auth stauts (did you mean: datagen auth status?)");
  EXPECT_EQ(Parse({"auth", "tokn"}).error.message,
            "unknown command: auth tokn (did you mean: datagen auth token?)");
  EXPECT_EQ(Parse({"auth", "logut"}).error.message,
            "unknown command: auth logut (did you mean: datagen auth logout?)");
  EXPECT_EQ(Parse({"auht", "status"}).error.message,
            "unknown command: auht (did you mean: datagen auth?)");
  EXPECT_EQ(Parse({"auth", "frobnicate"}).error.message, "unknown command: auth frobnicate")
      << "nothing close: no guess";
  EXPECT_EQ(Parse({"auth", "frobnicate"}).error.usage,
            "usage: datagen auth <login|logout|status|token|exec|audit|doctor|org|agent> [--format "
            "text|json]");
}

}  // namespace
}  // namespace datagen::cli

namespace datagen::cli {
namespace {

std::function<std::optional<std::string>(absl::string_view)> Env(
    std::map<std::string, std::string> vars) {
  return [vars](absl::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Invocation Parsed(const std::vector<std::string>& args) {
  ParseResult parsed = ParseArgs(args);
  EXPECT_TRUE(parsed.ok) << parsed.error.message;
  return parsed.invocation;
}

TEST(ResolveEnvironment, FlagsFirstThenTheEnvironment) {
  Invocation inv = Parsed({"auth", "status", "--profile", "work", "--org", "acme"});
  EXPECT_FALSE(ResolveEnvironment(Env({{"DATAGEN_PROFILE", "home"}, {"DATAGEN_ORG", "x"}}), &inv));
  EXPECT_EQ(inv.profile, "work");
  EXPECT_EQ(inv.org, "acme");
  EXPECT_EQ(inv.org_from, Invocation::OrgFrom::kFlag);

  inv = Parsed({"auth", "status"});
  EXPECT_FALSE(ResolveEnvironment(Env({{"DATAGEN_PROFILE", "home"}, {"DATAGEN_ORG", "x"}}), &inv));
  EXPECT_EQ(inv.profile, "home");
  EXPECT_EQ(inv.org, "x");
  EXPECT_EQ(inv.org_from, Invocation::OrgFrom::kEnv);

  inv = Parsed({"auth", "status"});
  EXPECT_FALSE(ResolveEnvironment(Env({}), &inv));
  EXPECT_EQ(inv.profile, "");
  EXPECT_EQ(inv.org_from, Invocation::OrgFrom::kNone);
}

TEST(ResolveEnvironment, DatagenOrgScopesOnlyTheCommandsThatShowOrUseAnOrganization) {
  Invocation use = Parsed({"auth", "org", "--use", "acme"});
  EXPECT_FALSE(ResolveEnvironment(Env({{"DATAGEN_ORG", "x"}}), &use));
  EXPECT_EQ(use.org, "") << "org --use sets the stored one";
  Invocation token = Parsed({"auth", "token"});
  EXPECT_FALSE(ResolveEnvironment(Env({{"DATAGEN_ORG", "x"}}), &token));
  EXPECT_EQ(token.org, "x");
  Invocation all = Parsed({"auth", "status", "--all"});
  EXPECT_FALSE(ResolveEnvironment(Env({{"DATAGEN_ORG", "x"}, {"DATAGEN_PROFILE", "p"}}), &all));
  EXPECT_EQ(all.profile, "");
  EXPECT_EQ(all.org, "");
}

TEST(ResolveEnvironment, ABadValueIsAUsageErrorNamingTheVariable) {
  Invocation inv = Parsed({"auth", "status"});
  std::optional<UsageError> error = ResolveEnvironment(Env({{"DATAGEN_PROFILE", "../x"}}), &inv);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message.find("DATAGEN_PROFILE='../x' is not a profile name"), 0u);
  inv = Parsed({"auth", "token"});
  error = ResolveEnvironment(Env({{"DATAGEN_ORG", "a b"}}), &inv);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message.find("DATAGEN_ORG='a b' is not an organization slug"), 0u);
}

TEST(ResolveEnvironment, LoginGoesWhereTheFlagThenTheShellSays) {
  Invocation flag = Parsed({"auth", "login", "--api-url", "https://a.example"});
  EXPECT_FALSE(ResolveEnvironment(Env({{"DATAGEN_API_URL", "https://b.example"}}), &flag));
  EXPECT_EQ(flag.api_url, "https://a.example");
  Invocation shell = Parsed({"auth", "login", "--profile", "staging"});
  EXPECT_FALSE(ResolveEnvironment(Env({{"DATAGEN_API_URL", "https://b.example"}}), &shell));
  EXPECT_EQ(shell.api_url, "https://b.example");
  EXPECT_EQ(shell.profile, "staging");
}

}  // namespace
}  // namespace datagen::cli
