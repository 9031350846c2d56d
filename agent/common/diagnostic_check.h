// One check of `datagen auth doctor` (agent.proto DiagnosticCheck), as both the agent's and the
// CLI's halves of doctor make them.
#ifndef DATAGEN_AGENT_COMMON_DIAGNOSTIC_CHECK_H_
#define DATAGEN_AGENT_COMMON_DIAGNOSTIC_CHECK_H_

#include <string>
#include <utility>

#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// `fix` says what to do; empty when the verdict is OK.
inline agent::v1::DiagnosticCheck MakeCheck(std::string name, agent::v1::Verdict verdict,
                                            std::string detail, std::string fix = "") {
  agent::v1::DiagnosticCheck check;
  check.set_name(std::move(name));
  check.set_verdict(verdict);
  check.set_detail(std::move(detail));
  check.set_fix(std::move(fix));
  return check;
}

// A check that a new login fixes: `fix` says it in words, and the client adds its command.
inline agent::v1::DiagnosticCheck MakeSignInCheck(std::string name, agent::v1::Verdict verdict,
                                                  std::string detail, std::string fix) {
  agent::v1::DiagnosticCheck check =
      MakeCheck(std::move(name), verdict, std::move(detail), std::move(fix));
  check.set_remedy(agent::v1::REMEDY_SIGN_IN);
  return check;
}

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_DIAGNOSTIC_CHECK_H_
