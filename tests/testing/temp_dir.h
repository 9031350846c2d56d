// A short private folder under /tmp for one test, removed afterwards.
#ifndef DATAGEN_TESTS_TESTING_TEMP_DIR_H_
#define DATAGEN_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace datagen::testing {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/dgt-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_TEMP_DIR_H_
