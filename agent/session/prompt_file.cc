#include "agent/session/prompt_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/common/text.h"
#include "agent/store/atomic_file.h"

namespace datagen {
namespace {

const char* StateWord(agent::v1::SessionState state) {
  switch (state) {
    case agent::v1::SESSION_STATE_SIGNED_IN:
      return "signed_in";
    case agent::v1::SESSION_STATE_EXPIRED:
      return "expired";
    default:
      return "signed_out";
  }
}

}  // namespace

std::string PromptFile::Line(pid_t pid, const agent::v1::SessionSnapshot& session) {
  // A slug from the credentials file is validated on load; checked again here because a reader
  // splits the line on spaces.
  const std::string& org = session.active_org_slug();
  return absl::StrCat("datagen-prompt 1 ", pid, " ", StateWord(session.state()), " ",
                      IsValidSlug(org) ? org : "", "\n");
}

std::string PromptFile::ProfileLine(const std::string& profile,
                                    const agent::v1::SessionSnapshot& session) {
  const std::string& org = session.active_org_slug();
  return absl::StrCat("profile ", IsValidProfileName(profile) ? profile : "-", " ",
                      StateWord(session.state()), " ", IsValidSlug(org) ? org : "", "\n");
}

void PromptFile::OnSessionEvent(const agent::v1::WatchEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& profile = event.profile();
  if (profile.empty() || profile == kDefaultProfile) {
    default_line_ = Line(pid_, event.session());
  } else if (IsValidProfileName(profile)) {
    others_[profile] = ProfileLine(profile, event.session());
    WriteLocked(ProfilePromptStateFile(path_, profile), Line(pid_, event.session()),
                &written_others_[profile]);
  }
  // The default profile's line first, always: older readers read only that one.
  std::string content =
      default_line_.empty() ? Line(pid_, agent::v1::SessionSnapshot()) : default_line_;
  for (const auto& [name, line] : others_) content += line;
  WriteLocked(path_, std::move(content), &written_);
}

void PromptFile::WriteLocked(const std::string& path, std::string content, std::string* written) {
  if (content == *written) return;
  if (absl::Status status = WriteFileAtomically(path, content); !status.ok()) {
    std::string error(status.message());
    if (error != last_error_) {
      LogWarning("the prompt state file is not up to date: %s", error);
      last_error_ = std::move(error);
    }
    return;
  }
  *written = std::move(content);
  last_error_.clear();
}

void PromptFile::Remove() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> paths = {path_};
  for (const auto& [name, content] : written_others_) {
    paths.push_back(ProfilePromptStateFile(path_, name));
  }
  for (const std::string& path : paths) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      LogWarning("cannot remove the prompt state file %s: %s", path, std::strerror(errno));
    }
  }
  written_.clear();
  written_others_.clear();
}

}  // namespace datagen
