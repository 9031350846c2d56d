#include "agent/rpc/token_audit.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/common/proto_time.h"

namespace datagen {
namespace {

constexpr absl::string_view kDeleted = " (deleted)";

// The target of /proc/<pid>/exe, and whether the file now at that path is another one.
std::string ExecutableOf(const std::string& pid_dir, bool* changed) {
  char buffer[4096];
  ssize_t n = readlink((pid_dir + "/exe").c_str(), buffer, sizeof(buffer) - 1);
  if (n <= 0) return "";
  std::string path(buffer, static_cast<size_t>(n));
  if (absl::EndsWith(path, kDeleted)) {
    *changed = true;
    return std::string(absl::StripSuffix(path, kDeleted));
  }
  // /proc/<pid>/exe stats the file the process runs; the path, whatever is there now.
  struct stat running, at_path;
  if (stat((pid_dir + "/exe").c_str(), &running) == 0 &&
      (stat(path.c_str(), &at_path) != 0 || running.st_dev != at_path.st_dev ||
       running.st_ino != at_path.st_ino)) {
    *changed = true;
  }
  return path;
}

// The parent pid from /proc/<pid>/stat: the field after the command, which is in parentheses
// and may itself hold spaces and parentheses (so: after the last ')').
pid_t ParentOf(const std::string& pid_dir) {
  std::ifstream in(pid_dir + "/stat");
  std::stringstream text;
  text << in.rdbuf();
  std::string stat = text.str();
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  long ppid = 0;
  if (!(rest >> state >> ppid) || ppid <= 0) return 0;
  return static_cast<pid_t>(ppid);
}

}  // namespace

ProcessInfo DescribeProcess(pid_t pid, const std::string& proc) {
  ProcessInfo info;
  if (pid <= 0) return info;
  std::string dir = absl::StrCat(proc, "/", pid);
  info.executable = ExecutableOf(dir, &info.executable_changed);
  info.parent_pid = ParentOf(dir);
  if (info.parent_pid > 0) {
    bool parent_changed = false;
    info.parent_executable =
        ExecutableOf(absl::StrCat(proc, "/", info.parent_pid), &parent_changed);
  }
  return info;
}

void TokenAudit::Record(const std::string& profile, const std::optional<ucred>& peer,
                        absl::Time now, const std::string& rpc) {
  agent::v1::TokenHandout handout;
  SetTime(now, handout.mutable_time());
  handout.set_profile(profile);
  handout.set_rpc(rpc);
  if (peer) {
    handout.set_pid(peer->pid);
    handout.set_uid(static_cast<int32_t>(peer->uid));
    ProcessInfo info = DescribeProcess(peer->pid);
    handout.set_executable(info.executable);
    handout.set_parent_pid(info.parent_pid);
    handout.set_parent_executable(info.parent_executable);
    handout.set_executable_changed(info.executable_changed);
  }
  absl::MutexLock lock(&mu_);
  handouts_.push_back(std::move(handout));
  while (handouts_.size() > kCapacity) handouts_.pop_front();
}

agent::v1::ListTokenHandoutsResponse TokenAudit::List() const {
  agent::v1::ListTokenHandoutsResponse reply;
  absl::MutexLock lock(&mu_);
  for (auto it = handouts_.rbegin(); it != handouts_.rend(); ++it) *reply.add_handouts() = *it;
  return reply;
}

}  // namespace datagen
