#include "agent/rpc/server.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/common/clock.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_posix.h"

namespace datagen {
namespace {

// The largest message gRPC itself takes. The agent's own bound (AgentService::kMaxRequestBytes,
// 64 KiB) is checked by its handlers, which answer RESOURCE_EXHAUSTED with the agent's trailer;
// past this one gRPC refuses the message before any handler sees it.
constexpr int kMaxTransportBytes = 4 * 1024 * 1024;

// How long a starting agent waits for the agent holding the lock to answer or go away.
constexpr absl::Duration kLockWait = absl::Seconds(10);

// True when something accepts connections on `path` (connected, then closed at once).
bool SomethingAnswers(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  bool answers = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return answers;
}

std::string ReadPid(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "";
  int pid = 0;
  return absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, n)), &pid)
             ? absl::StrCat(" (pid ", pid, ")")
             : "";
}

}  // namespace

int AgentServer::TakeSocketFromSystemd() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  int listen_pid = 0, listen_fds = 0;
  bool ours = pid != nullptr && fds != nullptr && absl::SimpleAtoi(pid, &listen_pid) &&
              absl::SimpleAtoi(fds, &listen_fds) && listen_pid == getpid() && listen_fds == 1;
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  if (!ours) return -1;
  constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START
  fcntl(kFirstFd, F_SETFD, FD_CLOEXEC);
  return kFirstFd;
}

absl::StatusOr<std::string> AgentServer::BoundPath(int fd) {
  sockaddr_un addr{};
  socklen_t size = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0 ||
      addr.sun_family != AF_UNIX || size <= offsetof(sockaddr_un, sun_path) ||
      addr.sun_path[0] == '\0') {
    return absl::InvalidArgumentError("the inherited socket is not a Unix socket bound to a path");
  }
  return std::string(addr.sun_path, strnlen(addr.sun_path, sizeof(addr.sun_path)));
}

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Start(
    const std::string& socket_path, uid_t uid, const std::vector<grpc::Service*>& services,
    int inherited_fd, Sleep sleep, PeerTable* peers) {
  if (socket_path.size() > kMaxSocketPathLength) {
    return absl::InvalidArgumentError(absl::StrCat("socket path too long: ", socket_path));
  }
  if (absl::Status dir = EnsurePrivateDir(Dirname(socket_path), uid, LooseFolder::kRefuse);
      !dir.ok()) {
    return dir;
  }
  std::unique_ptr<AgentServer> server(new AgentServer);
  server->socket_path_ = socket_path;
  server->uid_ = uid;
  server->services_ = services;
  server->sleep_ = std::move(sleep);
  server->peers_ = peers;
  if (server->sleep_.clock == nullptr || !server->sleep_.until_idle_for) {
    server->sleep_.after = absl::ZeroDuration();
  }
  if (absl::Status locked = server->TakeLock(); !locked.ok()) return locked;
  if (inherited_fd >= 0) {
    server->listen_fd_.reset(inherited_fd);
    server->owns_socket_file_ = false;  // systemd's: it stays when the agent exits
    LogInfo("serving the socket passed by systemd (socket activation)");
  } else if (absl::Status listening = server->Listen(); !listening.ok()) {
    return listening;
  }
  if (absl::Status started = server->StartServing(); !started.ok()) return started;
  LogInfo("datagen-agent listening on %s (pid %d)", socket_path, getpid());
  return server;
}

absl::Status AgentServer::TakeLock() {
  // One agent per socket: the lock is held for the agent's lifetime and never deleted (deleting
  // it would let a second agent lock a fresh file while a third still holds the old one).
  std::string lock_path = SocketLockFile(socket_path_);
  lock_fd_.reset(open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!lock_fd_.valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open lock file ", lock_path, ": ", std::strerror(errno)));
  }
  // A held lock means another agent serves, or is about to, or is still dying: a killed agent
  // releases it only when its last thread is gone (one may be finishing an fsync, long after
  // the process shows as a zombie). Leave only once the holder answers on the socket, so that
  // whoever started this agent finds one serving; take the lock if it is freed meanwhile.
  const absl::Time give_up = MonotonicNow() + kLockWait;
  while (flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot lock ", lock_path, ": ", std::strerror(errno)));
    }
    if (SomethingAnswers(socket_path_) || MonotonicNow() >= give_up) {
      return absl::AlreadyExistsError(absl::StrCat("another datagen-agent", ReadPid(lock_fd_.get()),
                                                   " is already serving ", socket_path_));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(lock_fd_.get(), 0) != 0 ||
      pwrite(lock_fd_.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    LogWarning("could not record the pid in %s", lock_path);
  }
  return absl::OkStatus();
}

absl::Status AgentServer::Listen() {
  // We hold the lock, so a socket file there now belongs to a dead agent: replace it.
  struct stat st;
  if (lstat(socket_path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(socket_path_, " exists and is not a socket; refusing to replace it"));
    }
    LogInfo("replacing the stale socket %s left by an agent that is gone", socket_path_);
    unlink(socket_path_.c_str());
  }
  listen_fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listen_fd_.valid()) return absl::InternalError("cannot create a Unix socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  mode_t old_umask = umask(0177);  // the socket itself 0600
  int bound = bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  umask(old_umask);
  if (bound != 0 || listen(listen_fd_.get(), 128) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", socket_path_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status AgentServer::StartGrpc() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(kMaxTransportBytes);
  for (grpc::Service* service : services_) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return absl::InternalError("gRPC server failed to start");
  if (auto* health = server->GetHealthCheckService()) health->SetServingStatus(true);
  absl::MutexLock lock(&grpc_mu_);
  grpc_server_ = std::move(server);
  return absl::OkStatus();
}

void AgentServer::StopGrpc() {
  std::unique_ptr<grpc::Server> server;
  {
    absl::MutexLock lock(&grpc_mu_);
    server = std::move(grpc_server_);
  }
  if (!server) return;
  server->Shutdown(absl::ToChronoTime(absl::Now()));  // nothing is in progress
  server.reset();  // with the last gRPC object, gRPC's own threads end
  malloc_trim(0);  // and what they held goes back to the system
  LogDebug("idle for %s: gRPC stopped until the next connection",
           absl::FormatDuration(sleep_.after));
}

bool AgentServer::awake() {
  absl::MutexLock lock(&grpc_mu_);
  return grpc_server_ != nullptr;
}

void AgentServer::Reconsider() {
  if (!poke_fd_.valid()) return;
  uint64_t one = 1;
  ssize_t unused = write(poke_fd_.get(), &one, sizeof(one));
  (void)unused;
}

void AgentServer::ReconsiderAndWait() {
  uint64_t ticket;
  {
    absl::MutexLock lock(&look_mu_);
    if (!loop_running_) return;
    ticket = ++looks_asked_;
  }
  Reconsider();
  absl::MutexLock lock(&look_mu_);
  auto looked = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(look_mu_) {
    return looks_done_ >= ticket || !loop_running_;
  };
  look_mu_.Await(absl::Condition(&looked));
}

int AgentServer::PollTimeoutMs() {
  if (sleep_.after <= absl::ZeroDuration() || !awake()) return -1;
  absl::Duration left = std::max(sleep_.until_idle_for(sleep_.after),
                                 last_accept_ + sleep_.after - sleep_.clock->BootTime());
  if (left <= absl::ZeroDuration()) {
    StopGrpc();
    return -1;
  }
  // Something in progress (a watcher, a login): look again after a while; a call that ends
  // pokes the loop (Reconsider) sooner.
  if (left == absl::InfiniteDuration()) left = sleep_.after;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

absl::Status AgentServer::StartServing() {
  if (absl::Status started = StartGrpc(); !started.ok()) return started;
  wake_fd_.reset(eventfd(0, EFD_CLOEXEC));
  poke_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid() || !poke_fd_.valid())
    return absl::InternalError("cannot create an eventfd");
  if (sleep_.clock != nullptr) {
    last_accept_ = sleep_.clock->BootTime();
    // A simulated clock's move is a reason to look again, as a call's end is.
    clock_subscription_ = sleep_.clock->Subscribe([this] { Reconsider(); });
  }
  accept_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "dg-accept");
    AcceptLoop();
  });
  return absl::OkStatus();
}

void AgentServer::AcceptLoop() {
  {
    absl::MutexLock lock(&look_mu_);
    loop_running_ = true;
  }
  AcceptUntilShutdown();
  absl::MutexLock lock(&look_mu_);
  loop_running_ = false;
}

int AgentServer::LookAgain() {
  uint64_t asked;
  {
    absl::MutexLock lock(&look_mu_);
    asked = looks_asked_;
  }
  int timeout_ms = PollTimeoutMs();  // reads the clock after `asked`: a ticket's look is fresh
  absl::MutexLock lock(&look_mu_);
  looks_done_ = asked;
  return timeout_ms;
}

void AgentServer::AcceptUntilShutdown() {
  while (true) {
    pollfd fds[3] = {
        {listen_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}, {poke_fd_.get(), POLLIN, 0}};
    if (poll(fds, 3, LookAgain()) < 0) {
      if (errno == EINTR) continue;
      LogError("accept loop: poll failed: %s", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[2].revents != 0) {
      uint64_t pokes;
      ssize_t unused = read(poke_fd_.get(), &pokes, sizeof(pokes));
      (void)unused;
    }
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        LogWarning("accept failed: %s", std::strerror(errno));
        if (errno == EMFILE || errno == ENFILE) usleep(100 * 1000);  // let descriptors free up
      }
      continue;
    }
    ucred peer{};
    socklen_t len = sizeof(peer);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || len != sizeof(peer)) {
      LogWarning("refused a connection whose peer credentials are unknown");
      close(fd);
      continue;
    }
    if (peer.uid != uid_) {
      LogWarning("refused a connection from uid %d (pid %d): only uid %d may use this agent",
                 peer.uid, peer.pid, uid_);
      close(fd);
      continue;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      close(fd);
      continue;
    }
    if (sleep_.clock != nullptr) last_accept_ = sleep_.clock->BootTime();
    if (!awake()) {
      if (absl::Status started = StartGrpc(); !started.ok()) {
        LogError("%s; refusing the connection", started.message());
        close(fd);
        continue;
      }
    }
    if (peers_ != nullptr) peers_->Set(fd, peer);            // before any call on it can run
    grpc::AddInsecureChannelFromFd(grpc_server_.get(), fd);  // gRPC owns fd from here
  }
}

void AgentServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (sleep_.clock != nullptr) sleep_.clock->Unsubscribe(clock_subscription_);
  if (wake_fd_.valid()) {
    uint64_t one = 1;
    ssize_t unused = write(wake_fd_.get(), &one, sizeof(one));
    (void)unused;
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_.valid()) {
    listen_fd_.reset();
    // Still ours: we hold the lock until we exit. systemd's socket stays.
    if (owns_socket_file_) unlink(socket_path_.c_str());
  }
  if (grpc_server_) grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  wake_fd_.reset();

  LogInfo("datagen-agent stopped%s", owns_socket_file_ ? "; socket removed" : "");
  lock_fd_.reset();
}

AgentServer::~AgentServer() {
  if (grpc_server_ || listen_fd_.valid()) Shutdown();
  // The descriptors close as members, poke_fd_ among them only now: Reconsider may be called
  // until Shutdown ends.
}

}  // namespace datagen
