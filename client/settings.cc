#include "client/settings.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace datagen::cli {

std::string SettingsMismatch(const EnvLookup& env, const AgentSettings& agent) {
  std::vector<std::string> differ;
  std::string url = env("DATAGEN_API_URL").value_or("");
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!url.empty() && !agent.api_url.empty() && url != agent.api_url) {
    differ.push_back(absl::StrCat("DATAGEN_API_URL (", url, "; the agent's: ", agent.api_url, ")"));
  }
  absl::StatusOr<std::string> file = CredentialsPath(env);
  if (file.ok() && !agent.credentials_path.empty() && *file != agent.credentials_path) {
    differ.push_back(
        absl::StrCat("credentials file (", *file,
                     ", from XDG_CONFIG_HOME or HOME; the agent's: ", agent.credentials_path, ")"));
  }
  if (differ.empty()) return "";
  return absl::StrCat("this shell's ", absl::StrJoin(differ, " and "),
                      differ.size() > 1 ? " differ" : " differs",
                      " from the running agent's, which keeps the settings it started with; to "
                      "apply this shell's: datagen auth agent restart");
}

}  // namespace datagen::cli
