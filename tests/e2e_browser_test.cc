// End to end with a real browser: Debian's headless Chromium, driven through playwright-core as
// $BROWSER, opens the fake server's verification page, presses Confirm (or Deny), and
// `datagen auth login` completes (or reports the denial).
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;

// The browser runs on after `datagen` has its answer (the agent saw the approval before the
// page finished): wait for its log to say `text`.
std::string AwaitLog(const std::string& path, const std::string& text) {
  WaitUntil([&] { return ReadFile(path).find(text) != std::string::npos; }, absl::Seconds(20));
  return ReadFile(path);
}

std::string BrowserCommand(const std::string& extra = "") {
  return "/usr/bin/node " + Runfile("tools/browser/confirm.js") + extra;
}

TEST(E2eBrowser, ChromiumConfirmsTheCodeAndTheLoginCompletes) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&device_expires_in=30"), 200);
  std::string log = env.dir() + "/browser.log";
  std::string screenshot = env.dir() + "/confirmed.png";
  RunResult r = env.Datagen({"auth", "login"}, {"BROWSER=" + BrowserCommand(), "CONFIRM_LOG=" + log,
                                                "CONFIRM_SCREENSHOT=" + screenshot});
  ASSERT_EQ(r.exit_code, 0) << r.err << "\nbrowser: " << ReadFile(log);
  EXPECT_THAT(r.out, HasSubstr("Opening: " + env.api_url() + "/device?user_code="));
  EXPECT_THAT(r.out, HasSubstr("status: authenticated\nemail: you@yourcompany.com\n"));
  std::string browser = AwaitLog(log, "clicked Confirm");
  EXPECT_THAT(browser, HasSubstr("clicked Confirm; page says: Device confirmed"));
  // The page showed the code that the CLI printed.
  size_t at = r.out.find("User code: ");
  ASSERT_NE(at, std::string::npos);
  std::string code = r.out.substr(at + 11, 9);
  EXPECT_THAT(browser, HasSubstr("code field holds " + code));
  AwaitLog(log, "screenshot saved");
  EXPECT_GT(ReadFile(screenshot).size(), 1000u) << "Chromium rendered the page";
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
}

TEST(E2eBrowser, ChromiumDeniesAndTheLoginSaysSo) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&device_expires_in=30"), 200);
  std::string log = env.dir() + "/browser.log";
  RunResult r = env.Datagen({"auth", "login"},
                            {"BROWSER=" + BrowserCommand(" --deny"), "CONFIRM_LOG=" + log});
  EXPECT_EQ(r.exit_code, 1) << ReadFile(log);
  EXPECT_THAT(r.err, HasSubstr("the login was denied in the browser"));
  EXPECT_THAT(AwaitLog(log, "clicked Deny"), HasSubstr("clicked Deny; page says: Request denied"));
}

}  // namespace
}  // namespace datagen::testing
