// Fuzz target: the CLI's argument parser. The input is the argument list, NUL-separated.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/cli_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args = absl::StrSplit(input, '\0');
  datagen::cli::ParseResult parsed = datagen::cli::ParseArgs(args);
  // A refused command line always says why.
  if (!parsed.ok && parsed.error.message.empty()) __builtin_trap();
  return 0;
}
