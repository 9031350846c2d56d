#include "client/browser.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace datagen::cli {
namespace {

bool OnPath(const std::string& name, const EnvLookup& env) {
  for (absl::string_view dir :
       absl::StrSplit(env("PATH").value_or("/usr/bin:/bin"), ':', absl::SkipEmpty())) {
    if (access(absl::StrCat(dir, "/", name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

std::string ChooseBrowser(bool no_browser, const EnvLookup& env) {
  if (no_browser) return "";
  if (auto browser = env("BROWSER")) return *browser;
#ifdef __APPLE__
  const std::string opener = "open";
  const bool display = true;
#else
  const std::string opener = "xdg-open";
  const bool display = env("DISPLAY").has_value() || env("WAYLAND_DISPLAY").has_value();
#endif
  if (display && OnPath(opener, env)) return opener;
  return "";
}

absl::Status OpenBrowser(const std::string& command, const std::string& url) {
  // "$1" is the URL: the shell expands it as one word, whatever it contains.
  std::string script = command.find("%s") != std::string::npos
                           ? absl::StrReplaceAll(command, {{"%s", "\"$1\""}})
                           : command + " \"$1\"";
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("cannot start the browser: fork failed");
  if (pid == 0) {
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    execl("/bin/sh", "sh", "-c", script.c_str(), "sh", url.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  absl::Time give_up = absl::Now() + absl::Milliseconds(300);
  while (absl::Now() < give_up) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
      if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        return absl::NotFoundError(absl::StrCat("the browser command was not found: ", command));
      }
      return absl::UnknownError(absl::StrCat("the browser command failed: ", command));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::OkStatus();  // still running: a browser that stays open
}

}  // namespace datagen::cli
