// Fuzz target: the credentials file as the agent reads it (FileCredentialStore::Load: size
// bound, JSON, types, validation). The input is the file's content.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/store/credential_store.h"
#include "tests/testing/fake_clock.h"

namespace {

// One private folder for the whole run (the store wants 0700); quarantined copies are removed
// after each input so that it never grows.
const std::string& Folder() {
  static const std::string* folder = [] {
    char pattern[] = "/tmp/dgfuzz-XXXXXX";
    auto* made = new std::string(mkdtemp(pattern));
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(Folder(), ignored);
    });
    return made;
  }();
  return *folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static datagen::testing::FakeClock clock;
  const std::string path = Folder() + "/credentials.json";
  {
    // A plain write (no fsync): the fuzzer is about reading.
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) return 0;
  }
  chmod(path.c_str(), 0600);
  datagen::FileCredentialStore store(path, getuid(), clock);
  std::vector<std::string> warnings;
  absl::StatusOr<datagen::agent::v1::Credentials> loaded = store.Load(&warnings);
  // What loads is valid by the store's own rules (and saves back).
  if (loaded.ok() && !datagen::ValidateCredentials(*loaded).ok()) __builtin_trap();
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(Folder(), ignored)) {
    std::filesystem::remove(entry.path(), ignored);
  }
  return 0;
}
