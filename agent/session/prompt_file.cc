#include "agent/session/prompt_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/common/log.h"
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

void PromptFile::OnSessionEvent(const agent::v1::WatchEvent& event) {
  std::string line = Line(pid_, event.session());
  if (line == written_) return;
  if (absl::Status written = WriteFileAtomically(path_, line); !written.ok()) {
    std::string error(written.message());
    if (error != last_error_) {
      LogWarning("the prompt state file is not up to date: %s", error);
      last_error_ = std::move(error);
    }
    return;
  }
  written_ = std::move(line);
  last_error_.clear();
}

void PromptFile::Remove() {
  if (unlink(path_.c_str()) != 0 && errno != ENOENT) {
    LogWarning("cannot remove the prompt state file %s: %s", path_, std::strerror(errno));
  }
  written_.clear();
}

}  // namespace datagen
