// Wiping secrets from memory once the agent is done with them.
//
// The agent is non-dumpable (no ptrace, no /proc/PID/mem, no core file), so a token in its heap
// can only leak through a bug: a later read of freed memory, a swap page, a crash report taken
// by a debugger the user attached. Wiping each token when its holder drops it narrows that
// window from "the agent's whole life" to "while it is in use". It cannot be complete (protobuf
// and gRPC make copies the agent does not own), so it is applied where the agent itself drops a
// token it held for long: the cached session, the tokens it remembers, the raw credentials and
// queue files it read, the revocation queue's entries once revoked.
//
// Thread safety: none of its own; the caller owns the string or message it passes.
#ifndef DATAGEN_AGENT_COMMON_SECRET_MEMORY_H_
#define DATAGEN_AGENT_COMMON_SECRET_MEMORY_H_

#include <optional>
#include <string>

#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// Overwrites every byte the string owns (its whole capacity, not only its size) with zeros, in a
// way the compiler may not elide, then empties it. The string stays usable.
void WipeString(std::string* secret);

// Wipes the message's token and refresh token (the rest of it is not secret), then clears it.
void WipeCredentials(agent::v1::Credentials* credentials);

// Wipes the held credentials, if any, and resets the optional.
void WipeCredentials(std::optional<agent::v1::Credentials>* credentials);

// Replaces *held with the given value, wiping the old secrets first. For a string that holds a
// token: `ReplaceSecret(&known_token_, new_token)`.
void ReplaceSecret(std::string* held, std::string value);

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_SECRET_MEMORY_H_
