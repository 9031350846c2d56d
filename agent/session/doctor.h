// The agent's half of `datagen auth doctor`: checks of what the agent depends on, each with a
// verdict and, when it is not OK, the fix. It only looks: it repairs nothing (a loose file mode
// is reported, not tightened) and never returns a token.
//
// Thread-safe (no state of its own). Does not own its collaborators.
#ifndef DATAGEN_AGENT_SESSION_DOCTOR_H_
#define DATAGEN_AGENT_SESSION_DOCTOR_H_

#include <sys/types.h>

#include <string>

#include "agent/common/clock.h"
#include "agent/common/paths.h"
#include "agent/http/http_transport.h"
#include "agent/store/revocation_queue.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

class Doctor {
 public:
  // How far the server's clock (its Date header) may be from the agent's before it is a
  // warning: RFC 8628 polling and token expiry both read it.
  static constexpr absl::Duration kMaxClockSkew = absl::Seconds(30);

  Doctor(HttpTransport& transport, Clock& clock, std::string issuer, std::string credentials_path,
         uid_t uid, RevocationQueue& revocations, EnvLookup env)
      : transport_(transport),
        clock_(clock),
        issuer_(std::move(issuer)),
        credentials_path_(std::move(credentials_path)),
        uid_(uid),
        revocations_(revocations),
        env_(std::move(env)) {}

  // Runs every check: discovery (reachable, how long), the server's clock, the credentials
  // file, pending revocations, proxy and CA settings. One round trip (two when the OpenID
  // document is absent).
  agent::v1::DiagnoseResponse Run();

 private:
  // The discovery and clock checks, from one request to the issuer's discovery document.
  void CheckServer(agent::v1::DiagnoseResponse* reply);
  // The discovery check when the server has no discovery document (HTTP 404): OK when the
  // default token endpoint answers as an OAuth server (a harmless probe that issues nothing).
  agent::v1::DiagnosticCheck CheckDefaultPaths(const std::string& fix_url);
  // The server's clock against this machine's, from the Date header of a reply received
  // between `before` and `after`.
  static agent::v1::DiagnosticCheck CheckClock(const HttpResponse& response, absl::Time before,
                                               absl::Time after);
  agent::v1::DiagnosticCheck CheckCredentials();
  agent::v1::DiagnosticCheck CheckRevocations();
  agent::v1::DiagnosticCheck CheckProxy();

  HttpTransport& transport_;
  Clock& clock_;
  const std::string issuer_;
  const std::string credentials_path_;
  const uid_t uid_;
  RevocationQueue& revocations_;
  const EnvLookup env_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_DOCTOR_H_
