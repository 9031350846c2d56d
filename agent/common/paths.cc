#include "agent/common/paths.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/common/text.h"

namespace datagen {

EnvLookup ProcessEnv() {
  return [](absl::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<std::string> CredentialsPath(const EnvLookup& env) {
  if (auto config = env("XDG_CONFIG_HOME"); config && (*config)[0] == '/') {
    return absl::StrCat(*config, "/datagen/credentials.json");
  }
  if (auto home = env("HOME"); home && (*home)[0] == '/') {
    return absl::StrCat(*home, "/.config/datagen/credentials.json");
  }
  return absl::FailedPreconditionError(
      "cannot locate the credentials file: set HOME (or XDG_CONFIG_HOME) to an absolute path");
}

absl::StatusOr<std::string> SocketPath(const EnvLookup& env, uid_t uid) {
  std::string path;
  if (auto socket = env("DATAGEN_AGENT_SOCKET")) {
    path = *socket;
  } else if (auto runtime = env("XDG_RUNTIME_DIR"); runtime && (*runtime)[0] == '/') {
    path = absl::StrCat(*runtime, "/datagen/agent.sock");
  } else {
    path = absl::StrFormat("/tmp/datagen-%d/agent.sock", uid);
  }
  if (path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("agent socket path must be absolute: ", path));
  }
  if (path.size() > kMaxSocketPathLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "agent socket path is %d bytes, longer than the %d a Unix socket allows: %s "
        "(set DATAGEN_AGENT_SOCKET to a shorter path)",
        path.size(), kMaxSocketPathLength, path));
  }
  return path;
}

std::string Dirname(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

namespace {

absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty() || dir == "/") return absl::OkStatus();
  struct stat st;
  if (lstat(dir.c_str(), &st) == 0) return absl::OkStatus();
  if (errno != ENOENT) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot inspect ", dir, ": ", std::strerror(errno)));
  }
  if (absl::Status parent = MakeDirs(Dirname(dir)); !parent.ok()) return parent;
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create folder ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnsurePrivateDir(const std::string& dir, uid_t uid, LooseFolder loose,
                              std::string* repaired) {
  if (absl::Status made = MakeDirs(dir); !made.ok()) return made;
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot inspect ", dir, ": ", std::strerror(errno)));
  }
  if (S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is a symbolic link; refusing to use it (it must be a real folder)"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " exists and is not a folder"));
  }
  if (st.st_uid != uid) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is owned by uid %d, not by you (uid %d); refusing to use it", dir, st.st_uid, uid));
  }
  if ((st.st_mode & 077) != 0) {
    if (loose == LooseFolder::kRefuse) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s is open to other users (mode %04o); refusing to use it: run chmod 700 %s", dir,
          st.st_mode & 07777, dir));
    }
    if (chmod(dir.c_str(), 0700) != 0) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s is open to other users (mode %04o) and could not be tightened: %s",
                          dir, st.st_mode & 07777, std::strerror(errno)));
    }
    if (repaired != nullptr) {
      *repaired = absl::StrFormat(
          "%s was open to other users (mode %04o); its permissions were tightened to 0700", dir,
          st.st_mode & 07777);
    }
  }
  return absl::OkStatus();
}

namespace {

constexpr char kUnsafeSocketAdvice[] =
    "another user may be listening there; set XDG_RUNTIME_DIR or DATAGEN_AGENT_SOCKET to a "
    "folder of your own (mode 0700)";

}  // namespace

absl::Status CheckAgentSocket(const std::string& socket_path, uid_t uid) {
  const std::string dir = Dirname(socket_path);
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot inspect the agent's socket folder ", dir, ": ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 022) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "refusing to talk to the agent at %s: its folder %s%s is owned by uid %d with mode %04o "
        "(it must be a folder of yours that others cannot write to; you are uid %d); %s",
        socket_path, dir, S_ISLNK(st.st_mode) ? " (a symbolic link)" : "", st.st_uid,
        st.st_mode & 07777, uid, kUnsafeSocketAdvice));
  }
  if (lstat(socket_path.c_str(), &st) != 0) return absl::OkStatus();  // nothing there yet
  if (!S_ISSOCK(st.st_mode) || st.st_uid != uid) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "refusing to talk to the agent at %s: it is %s owned by uid %d with mode %04o, not a "
        "socket of yours (you are uid %d); %s",
        socket_path, S_ISSOCK(st.st_mode) ? "a socket" : "not a socket", st.st_uid,
        st.st_mode & 07777, uid, kUnsafeSocketAdvice));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ConnectToAgent(const std::string& socket_path, uid_t uid) {
  if (socket_path.size() > kMaxSocketPathLength) {
    return absl::InvalidArgumentError(absl::StrCat("socket path too long: ", socket_path));
  }
  if (absl::Status safe = CheckAgentSocket(socket_path, uid); !safe.ok()) return safe;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int connected;
  do {
    connected = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } while (connected != 0 && errno == EINTR);
  if (connected != 0) {
    int error = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", socket_path, ": ", std::strerror(error)));
  }
  ucred peer{};
  socklen_t len = sizeof(peer);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || len != sizeof(peer) ||
      peer.uid != uid) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrFormat(
        "refusing to talk to the agent at %s: the process listening there runs as uid %d, not "
        "as you (uid %d); %s",
        socket_path, static_cast<int>(peer.uid), uid, kUnsafeSocketAdvice));
  }
  return fd;
}

std::string SocketLockFile(absl::string_view socket) { return absl::StrCat(socket, ".lock"); }
std::string AgentLogFile(absl::string_view socket) {
  return absl::StrCat(Dirname(socket), "/agent.log");
}
std::string PromptStateFile(absl::string_view socket) {
  return absl::StrCat(Dirname(socket), "/prompt");
}
std::string ProfilePromptStateFile(absl::string_view socket, absl::string_view profile) {
  return absl::StrCat(PromptStateFile(socket), ".", profile);
}
std::string CredentialsLockFile(absl::string_view credentials) {
  return absl::StrCat(Dirname(credentials), "/credentials.lock");
}
std::string PendingRevocationsFile(absl::string_view credentials) {
  return absl::StrCat(Dirname(credentials), "/pending-revocations.json");
}
std::string PendingRevocationsLockFile(absl::string_view credentials) {
  return absl::StrCat(Dirname(credentials), "/pending-revocations.lock");
}
std::string ProfilesFolder(absl::string_view credentials) {
  return absl::StrCat(Dirname(credentials), "/profiles");
}
std::string ProfileCredentialsFile(absl::string_view credentials, absl::string_view profile) {
  if (profile.empty() || profile == kDefaultProfile) return std::string(credentials);
  return absl::StrCat(ProfilesFolder(credentials), "/", profile, "/credentials.json");
}

}  // namespace datagen
