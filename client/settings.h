// What a running agent keeps from its start, compared with this shell's settings (issue 22, bug
// 4). The agent serves one issuer and one credentials file, chosen when it started; a shell that
// exports another DATAGEN_API_URL or XDG_CONFIG_HOME later talks to that same agent. Commands
// say so instead of silently showing the agent's account.
#ifndef DATAGEN_CLIENT_SETTINGS_H_
#define DATAGEN_CLIENT_SETTINGS_H_

#include <string>

#include "agent/common/paths.h"

namespace datagen::cli {

// The running agent's settings, as it reports them (AgentInfo, GetStatusResponse). An empty
// field is unknown (an older agent) and is not compared.
struct AgentSettings {
  std::string api_url;           // configured_api_url
  std::string credentials_path;  // credentials_path
};

// "" when this shell's settings agree with the agent's. Otherwise one sentence that names each
// setting that differs, both values, and the one command that applies this shell's settings
// (`datagen auth agent restart`): "this shell's DATAGEN_API_URL (B; the agent's: A) differs
// from the running agent's, ...". DATAGEN_API_URL is compared only when this shell sets it.
std::string SettingsMismatch(const EnvLookup& env, const AgentSettings& agent);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_SETTINGS_H_
