// google.protobuf.Timestamp <-> absl::Time, for the agent's protobuf files and replies.
#ifndef DATAGEN_AGENT_COMMON_PROTO_TIME_H_
#define DATAGEN_AGENT_COMMON_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace datagen {

inline absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// Whole seconds: the files are written with RFC 3339 times that people read.
inline void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
  out->set_nanos(0);
}

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_PROTO_TIME_H_
