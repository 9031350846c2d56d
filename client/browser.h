// Opening the verification page for `datagen auth login` (docs/cli.md "Browser").
#ifndef DATAGEN_CLIENT_BROWSER_H_
#define DATAGEN_CLIENT_BROWSER_H_

#include <string>

#include "absl/status/status.h"
#include "agent/common/paths.h"

namespace datagen::cli {

// The command that opens a URL, or "" for none: $BROWSER when set; else, with a display
// ($DISPLAY or $WAYLAND_DISPLAY), xdg-open (open on macOS) when it is on PATH; never with
// `no_browser`.
std::string ChooseBrowser(bool no_browser, const EnvLookup& env);

// Runs `command` with `url` (appended as one argument, or in place of "%s" when the command has
// one), detached from this process: its own session, no terminal, no output. Waits briefly to
// report a command that fails at once (not found, non-zero exit); one that is still running is
// taken as working. The URL is passed as an argument, never interpolated into shell text.
absl::Status OpenBrowser(const std::string& command, const std::string& url);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_BROWSER_H_
