#include "client/render.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "agent/common/json.h"
#include "agent/common/proto_time.h"
#include "agent/common/text.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace datagen::cli {
namespace {

// One "key: value" line. The value may come from a server: OneLine keeps it on its line (a
// newline in a role must not forge an "active_org_slug:" line of its own).
std::string Line(absl::string_view key, absl::string_view value) {
  return absl::StrCat(key, ": ", OneLine(value), "\n");
}

std::string UserLines(absl::string_view email, absl::string_view org, absl::string_view role) {
  return absl::StrCat(Line("email", email), Line("active_org_slug", org), Line("role", role));
}

}  // namespace

std::string ReplyJson(const google::protobuf::Message& reply) {
  // `warning_details` is the API's, for programs that talk to the agent; the CLI's JSON keeps its
  // documented shape, whose `warnings` are the lines it shows (with their advice).
  const google::protobuf::FieldDescriptor* details =
      reply.GetDescriptor()->FindFieldByName("warning_details");
  if (details == nullptr) return ToJson(reply, /*all_fields=*/true) + "\n";
  std::unique_ptr<google::protobuf::Message> shown(reply.New());
  shown->CopyFrom(reply);
  shown->GetReflection()->ClearField(shown.get(), details);
  // Printed with every field, the cleared list is exactly `"warning_details":[]`, never first.
  std::string json = ToJson(*shown, /*all_fields=*/true);
  absl::StrReplaceAll({{",\"warning_details\":[]", ""}}, &json);
  return json + "\n";
}

namespace {

// "profile: home" for a profile other than the default one; "" for it (its output is as it
// always was).
std::string ProfileLine(const std::string& profile) {
  return profile.empty() || profile == kDefaultProfile ? "" : Line("profile", profile);
}

// "org_source: env" when the organization shown is not the stored one.
std::string OrgSourceLine(const std::string& source) {
  return source.empty() || source == "file" ? "" : Line("org_source", source);
}

}  // namespace

std::string Text(const agent::v1::GetStatusResponse& reply) {
  return absl::StrCat(ProfileLine(reply.profile()),
                      UserLines(reply.email(), reply.active_org_slug(), reply.role()),
                      OrgSourceLine(reply.org_source()));
}

namespace {

// Rows as columns two spaces apart, the first row the heading; no trailing spaces.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i],
                      i + 1 < row.size() ? std::string(width[i] - row[i].size() + 2, ' ') : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace

std::string Text(const agent::v1::ListProfilesResponse& reply) {
  std::vector<std::vector<std::string>> rows = {
      {"PROFILE", "STATE", "EMAIL", "ORG", "IDENTITY SERVER"}};
  for (const auto& p : reply.profiles()) {
    rows.push_back({OneLine(p.profile()), OneLine(p.status()), OneLine(p.email()),
                    OneLine(p.active_org_slug()), OneLine(p.api_url())});
  }
  return Table(rows);
}

std::string Text(const agent::v1::ListTokenHandoutsResponse& reply) {
  if (reply.handouts().empty()) return "no token handed out since the agent started\n";
  std::vector<std::vector<std::string>> rows = {{"TIME", "PROFILE", "PID", "EXECUTABLE", "PARENT"}};
  for (const auto& h : reply.handouts()) {
    std::string executable = h.executable().empty() ? "?" : OneLine(h.executable());
    if (h.executable_changed()) absl::StrAppend(&executable, " (changed since it started)");
    std::string parent =
        h.parent_pid() > 0
            ? absl::StrCat(h.parent_pid(), " ",
                           h.parent_executable().empty() ? "?" : OneLine(h.parent_executable()))
            : "";
    rows.push_back({absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", ToTime(h.time()), absl::UTCTimeZone()),
                    OneLine(h.profile()), h.pid() > 0 ? absl::StrCat(h.pid()) : "?", executable,
                    parent});
  }
  return Table(rows);
}

std::string Text(const agent::v1::ListOrgsResponse& reply) {
  std::string out =
      absl::StrCat(ProfileLine(reply.profile()), Line("active_org_slug", reply.active_org_slug()),
                   OrgSourceLine(reply.org_source()), "memberships:\n");
  for (const auto& m : reply.memberships()) {
    absl::StrAppend(&out, "- ", OneLine(m.slug()), " (", OneLine(m.role()),
                    m.active() ? ", active" : "", ")\n");
  }
  return out;
}

std::string Text(const agent::v1::UseOrgResponse& reply) {
  return absl::StrCat(ProfileLine(reply.profile()),
                      UserLines(reply.email(), reply.active_org_slug(), reply.role()));
}

std::string Text(const agent::v1::LogoutResponse& reply) {
  return absl::StrCat(ProfileLine(reply.profile()), Line("status", reply.status()));
}

std::string Text(const agent::v1::DeviceCode& code) {
  return absl::StrCat(Line("User code", code.user_code()),
                      Line("Verify at", code.verification_uri()));
}

std::string Text(const agent::v1::LoginResult& result) {
  return absl::StrCat(Line("status", result.status()), Line("email", result.email()),
                      Line("active_org_slug", result.active_org_slug()));
}

namespace {

// "SESSION_CHANGE_ORG_SWITCHED" -> "org_switched".
std::string EnumWord(const std::string& name, absl::string_view prefix) {
  std::string word = absl::AsciiStrToLower(name);
  std::string lower_prefix = absl::AsciiStrToLower(prefix);
  if (absl::StartsWith(word, lower_prefix)) word = word.substr(lower_prefix.size());
  return word;
}

}  // namespace

std::string Text(const agent::v1::WatchEvent& event) {
  const agent::v1::SessionSnapshot& s = event.session();
  std::string line = absl::StrCat(
      event.profile().empty() || event.profile() == kDefaultProfile
          ? ""
          : absl::StrCat("profile=", OneLine(event.profile()), " "),
      "generation=", event.generation(),
      " change=", EnumWord(agent::v1::SessionChange_Name(event.change()), "SESSION_CHANGE_"),
      " state=", EnumWord(agent::v1::SessionState_Name(s.state()), "SESSION_STATE_"));
  if (!s.email().empty()) absl::StrAppend(&line, " email=", OneLine(s.email()));
  if (!s.active_org_slug().empty())
    absl::StrAppend(&line, " active_org_slug=", OneLine(s.active_org_slug()));
  if (s.has_pending_login()) {
    absl::StrAppend(&line, " user_code=", OneLine(s.pending_login().user_code()));
  }
  if (s.revocations_pending() > 0) {
    absl::StrAppend(&line, " revocations_pending=", s.revocations_pending());
  }
  return line + "\n";
}

std::string Text(const agent::v1::GetTokenResponse& reply) { return reply.token() + "\n"; }

std::string CodeName(grpc::StatusCode code) {
  // gRPC and abseil number the canonical codes alike; abseil names them.
  std::string name =
      absl::AsciiStrToLower(absl::StatusCodeToString(static_cast<absl::StatusCode>(code)));
  return name.empty() ? "unknown" : name;
}

namespace {

// A JSON string literal, escaped by protobuf's JSON printer.
std::string JsonString(const std::string& text) {
  google::protobuf::Value value;
  value.set_string_value(text);
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(value, &out);
  return out;
}

}  // namespace

std::string RenderJsonError(const std::string& code, const std::string& message) {
  // Written out rather than through google.protobuf.Struct, whose key order is unspecified.
  return absl::StrCat("{\"error\":{\"code\":", JsonString(code),
                      ",\"message\":", JsonString(message), "}}\n");
}

std::string RenderSignedOut(const agent::v1::GetStatusResponse& reply, const std::string& message) {
  std::string error = RenderJsonError("unauthenticated", message);
  // Plain "not signed in" is exactly docs/cli.md's error object; what more there is goes beside it.
  if (reply.revocations_pending() == 0 && !reply.has_pending_login()) return error;
  error.resize(error.size() - 2);  // "}\n": the object goes on
  if (reply.revocations_pending() > 0) {
    absl::StrAppend(&error, ",\"revocations_pending\":", reply.revocations_pending());
  }
  if (reply.has_pending_login()) {
    absl::StrAppend(&error, ",\"pending_login\":", ToJson(reply.pending_login(), true));
  }
  return error + "}\n";
}

std::string MinValidWarning(const agent::v1::GetTokenResponse& reply, absl::Duration min_valid) {
  std::string lifetime =
      reply.lifetime_seconds() > 0
          ? absl::StrCat("the identity server issues tokens for ",
                         absl::FormatDuration(absl::Seconds(reply.lifetime_seconds())))
          : "the session cannot be refreshed";
  return absl::StrCat("warning: this token expires in less than --min-valid ",
                      absl::FormatDuration(min_valid), ": ", lifetime, "\n");
}

}  // namespace datagen::cli
