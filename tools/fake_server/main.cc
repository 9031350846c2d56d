// fake_server: the project's identity server for the demo and the tests. Flags and wiring only.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "google/protobuf/util/json_util.h"
#include "tools/fake_server/fake_identity_server.h"

ABSL_FLAG(int, port, 0, "TCP port on 127.0.0.1 (0: any free port)");
ABSL_FLAG(std::string, discovery, "oidc",
          "oidc (openid-configuration), rfc8414 (oauth-authorization-server) or none (default "
          "paths, no metadata)");
ABSL_FLAG(std::string, users, "",
          "JSON file {\"users\": [{\"email\", \"sub\", \"memberships\": [{\"slug\", \"role\", "
          "\"default\"}]}]} (default: built-in users)");
ABSL_FLAG(std::string, client_id, "datagen-cli", "the OAuth client id it accepts");
ABSL_FLAG(std::string, port_file, "", "write the chosen port to this file once listening");
ABSL_FLAG(int, interval, 5, "device flow polling interval it advertises (< 0: omit the field)");
ABSL_FLAG(int, device_expires_in, 600, "seconds a device code stays valid");
ABSL_FLAG(int, auto_approve_after, -1,
          "approve every device code as the first user this many seconds after it was issued "
          "(-1: only through the /device page)");
ABSL_FLAG(int, token_expires_in, 0, "access token lifetime in seconds (0: no expiry)");
ABSL_FLAG(bool, refresh_tokens, false, "issue (rotating) refresh tokens");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the project's fake identity server, on 127.0.0.1 (docs/identity-server.md); "
      "POST /_admin/config and /_admin/fault change it while it runs (docs/development.md)");
  absl::FlagsUsageConfig usage;
  // --help lists this file's flags (abseil otherwise looks for a file named after the program,
  // and finding none printed "No flags matched").
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "tools/fake_server/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  datagen::fake::Options options;
  options.port = absl::GetFlag(FLAGS_port);
  options.client_id = absl::GetFlag(FLAGS_client_id);
  std::string discovery = absl::GetFlag(FLAGS_discovery);
  if (discovery == "oidc") {
    options.discovery = datagen::fake::DiscoveryMode::kOidc;
  } else if (discovery == "rfc8414") {
    options.discovery = datagen::fake::DiscoveryMode::kRfc8414;
  } else if (discovery == "none") {
    options.discovery = datagen::fake::DiscoveryMode::kNone;
  } else {
    std::fprintf(stderr, "fake_server: --discovery must be oidc, rfc8414 or none\n");
    return 2;
  }
  options.interval = absl::GetFlag(FLAGS_interval);
  options.device_expires_in = absl::GetFlag(FLAGS_device_expires_in);
  options.auto_approve_after = absl::GetFlag(FLAGS_auto_approve_after);
  options.token_expires_in = absl::GetFlag(FLAGS_token_expires_in);
  options.issue_refresh_tokens = absl::GetFlag(FLAGS_refresh_tokens);
  options.users = datagen::fake::DefaultUsers();
  if (std::string path = absl::GetFlag(FLAGS_users); !path.empty()) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    google::protobuf::util::JsonParseOptions parse;
    parse.ignore_unknown_fields = false;
    options.users.Clear();
    if (!in ||
        !google::protobuf::util::JsonStringToMessage(text.str(), &options.users, parse).ok()) {
      std::fprintf(stderr, "fake_server: cannot read users from %s\n", path.c_str());
      return 2;
    }
  }

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  datagen::fake::FakeIdentityServer server(options);
  int port = server.Start();
  if (port < 0) {
    std::fprintf(stderr, "fake_server: cannot listen on 127.0.0.1:%d\n", options.port);
    return 1;
  }
  if (std::string path = absl::GetFlag(FLAGS_port_file); !path.empty()) {
    std::string temp = path + ".tmp";
    std::ofstream(temp) << port << "\n";
    std::rename(temp.c_str(), path.c_str());
  }
  std::printf("fake_server listening on %s\n", server.base_url().c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  server.Stop();
  return 0;
}
