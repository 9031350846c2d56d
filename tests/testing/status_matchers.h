// GoogleTest matchers for absl::Status / absl::StatusOr (abseil 20220623 ships none).
#ifndef DATAGEN_TESTS_TESTING_STATUS_MATCHERS_H_
#define DATAGEN_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace absl {
// Lets GoogleTest print statuses in failure messages.
inline void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }
}  // namespace absl

namespace datagen::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << status.ToString();
  return status.ok();
}

// StatusIs(code) and StatusIs(code, message_matcher).
MATCHER_P(StatusIs, code, "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << status.ToString();
  return status.code() == code;
}
MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) + " and a matching message") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << status.ToString();
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_STATUS_MATCHERS_H_
