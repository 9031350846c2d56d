// Shell completion scripts for `datagen`, generated from the command table (command_table.h),
// so that they never drift from what the CLI accepts. `datagen completion bash|zsh|fish` prints
// one; tools/install puts each where its shell looks.
#ifndef DATAGEN_CLIENT_COMPLETION_H_
#define DATAGEN_CLIENT_COMPLETION_H_

#include <optional>
#include <string>

namespace datagen::cli {

// The script for `shell` ("bash", "zsh" or "fish"); nullopt for another shell.
std::optional<std::string> CompletionScript(const std::string& shell);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_COMPLETION_H_
