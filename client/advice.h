// The CLI's advice to a person, composed in this one place from codes, reasons and kinds (never
// from message text): the next step after a failed call, the command that carries out a doctor
// check's remedy, and each warning's line with what to run. The agent's replies say what
// happened; which `datagen` command to run is the CLI's to say (an IDE plugin says it its way).
//
// Pure functions; thread-safe.
#ifndef DATAGEN_CLIENT_ADVICE_H_
#define DATAGEN_CLIENT_ADVICE_H_

#include <string>
#include <vector>

#include "google/protobuf/repeated_field.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen::cli {

// What to tell the user to do next after a call failed, or "": from the agent's reason (the
// x-datagen-reason trailer, in error_details()) and, without one, its code. "" when no agent
// answered (`agent_unreachable`): the error says all there is.
// `profile` ("" or "default": none) is named in the command, so that it fixes that profile.
std::string NextStep(const grpc::Status& status, bool agent_unreachable,
                     const std::string& profile = "");

// "datagen auth login", with " --profile <profile>" for a profile other than the default.
std::string LoginCommand(const std::string& profile = "");

// The command that carries out `remedy` ("datagen auth login"), or "" for none.
std::string RemedyCommand(agent::v1::Remedy remedy);

// The lines to show for a reply's warnings, without "warning: ": each detail's message with
// the command its kind calls for. A reply whose details do not match its `warnings` one for one
// (an agent from before WarningKind) has its `warnings` shown as they are.
std::vector<std::string> WarningLines(
    const google::protobuf::RepeatedPtrField<std::string>& warnings,
    const google::protobuf::RepeatedPtrField<agent::v1::Warning>& details);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_ADVICE_H_
