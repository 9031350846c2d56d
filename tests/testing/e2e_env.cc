#include "tests/testing/e2e_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/common/json.h"
#include "agent/common/paths.h"
#include "agent/http/curl_http_transport.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"

namespace datagen::testing {

int UnusedLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string E2eEnv::DatagenBinary() { return Runfile("client/datagen"); }
std::string E2eEnv::AgentBinary() { return Runfile("agent/datagen-agent"); }

E2eEnv::E2eEnv(Options options) {
  char pattern[] = "/tmp/dg-XXXXXX";  // short: Unix socket paths are limited to 108 bytes
  dir_ = mkdtemp(pattern);
  chmod(dir_.c_str(), 0711);  // traversable by a second uid in the tests that need one
  for (const char* sub : {"/home", "/cfg", "/run"}) mkdir((dir_ + sub).c_str(), 0700);
  if (options.discovery.empty()) {
    api_url_ = absl::StrCat("http://127.0.0.1:", UnusedLoopbackPort());
    return;
  }
  std::string port_file = dir_ + "/server.port";
  std::vector<std::string> server_argv = {Runfile("tools/fake_server/fake_server"),
                                          "--discovery=" + options.discovery,
                                          "--port_file=" + port_file};
  if (!options.users_json.empty()) {
    WriteFile(dir_ + "/users.json", options.users_json);
    server_argv.push_back("--users=" + dir_ + "/users.json");
  }
  server_ = std::make_unique<Child>(server_argv, std::vector<std::string>{}, dir_ + "/server.out",
                                    dir_ + "/server.err");
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  int port = 0;
  while (absl::Now() < deadline &&
         !absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(port_file)), &port)) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT(port, 0) << "fake_server did not start: " << ReadFile(dir_ + "/server.err");
  api_url_ = absl::StrCat("http://127.0.0.1:", port);
}

E2eEnv::~E2eEnv() {
  StopAgent();
  StopServer();
  std::string everything = transcript_ + AgentLog();
  for (const auto& [name, unused] : outputs_collected_) {
    absl::StrAppend(&everything, ReadFile(dir_ + "/" + name + ".out"),
                    ReadFile(dir_ + "/" + name + ".err"));
  }
  std::sort(secrets_.begin(), secrets_.end());
  secrets_.erase(std::unique(secrets_.begin(), secrets_.end()), secrets_.end());
  for (const std::string& secret : secrets_) {
    EXPECT_EQ(everything.find(secret), std::string::npos)
        << "a token, refresh token or device code appeared in the output or the agent's log";
  }
  // A sanitizer's report in any output or log (the agent's go to its log) fails the test.
  for (const char* report :
       {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "ThreadSanitizer:"}) {
    size_t at = everything.find(report);
    if (at == std::string::npos) continue;
    if (std::string(report) == "ThreadSanitizer:") {
      // Under tools/tsan, gRPC's core is not instrumented, so TSan cannot see its hand-offs
      // between threads. A report whose racing accesses are both made by gRPC or abseil code
      // is counted, not failed; one where either access is made by our code (its first frame
      // past the sanitizer's own is datagen::) fails the test.
      int grpc_only = 0;
      for (absl::string_view block : absl::StrSplit(everything, "==================")) {
        if (!absl::StrContains(block, "ThreadSanitizer:")) continue;
        bool ours = false, in_access = false, found_top = false;
        for (absl::string_view line : absl::StrSplit(block, '\n')) {
          if (absl::StrContains(line, " of size ")) {
            in_access = true;  // "Read of size 8 ..." / "Previous write of size ..."
            found_top = false;
          } else if (in_access && !found_top && absl::StrContains(line, "#") &&
                     !absl::StrContains(line, "libsanitizer") &&
                     !absl::StrContains(line, "libtsan")) {
            found_top = true;
            ours = ours || absl::StrContains(line, "datagen::");
          } else if (line.empty()) {
            in_access = false;
          }
        }
        if (ours) {
          ADD_FAILURE() << "ThreadSanitizer report in our code:\n" << block;
        } else {
          ++grpc_only;
        }
      }
      std::printf("FIGURE tsan.reports_inside_grpc %d\n", grpc_only);
      continue;
    }
    ADD_FAILURE() << "sanitizer report:\n" << everything.substr(at > 2000 ? at - 2000 : 0, 8000);
  }
  // Summed over the suite by tools/reliability (docs/reliability.md).
  std::printf("FIGURE secrets.checked %zu\nFIGURE secrets.bytes_scanned %zu\n", secrets_.size(),
              everything.size());
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::vector<std::string> E2eEnv::Env(const std::vector<std::string>& overrides) const {
  std::vector<std::string> env = {
      "PATH=" + Dirname(AgentBinary()) + ":/usr/bin:/bin",
      "HOME=" + dir_ + "/home",
      "XDG_CONFIG_HOME=" + dir_ + "/cfg",
      "XDG_RUNTIME_DIR=" + dir_ + "/run",
      "DATAGEN_API_URL=" + api_url_,
  };
  // Under --config=asan/tsan the product binaries report through these: pass them on.
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) env.push_back(absl::StrCat(name, "=", value));
  }
  for (const std::string& entry : overrides) {
    std::string name = entry.substr(0, entry.find('=') + 1);
    env.erase(std::remove_if(env.begin(), env.end(),
                             [&](const std::string& e) { return e.rfind(name, 0) == 0; }),
              env.end());
    env.push_back(entry);
  }
  return env;
}

RunResult E2eEnv::RunCommand(const std::vector<std::string>& argv,
                             const std::vector<std::string>& extra_env) {
  RunResult result = RunProcess(argv, Env(extra_env));
  absl::StrAppend(&transcript_, result.out, result.err);
  return result;
}

RunResult E2eEnv::Datagen(const std::vector<std::string>& args,
                          const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {DatagenBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, extra_env);
}

Child E2eEnv::StartDatagen(const std::vector<std::string>& args, const std::string& name,
                           const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {DatagenBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  outputs_collected_[name] = true;
  return Child(argv, Env(extra_env), dir_ + "/" + name + ".out", dir_ + "/" + name + ".err");
}

std::string E2eEnv::Output(const std::string& name) {
  return ReadFile(dir_ + "/" + name + ".out") + ReadFile(dir_ + "/" + name + ".err");
}

bool E2eEnv::AwaitOutput(const std::string& name, const std::string& text, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (Output(name).find(text) == std::string::npos) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

std::vector<E2eEnv::Grant> E2eEnv::Grants() {
  int status = 0;
  std::string body = Admin("GET", "/_admin/grants", "", &status);
  google::protobuf::Struct reply;
  std::vector<Grant> grants;
  if (status != 200 || !ParseJson(body, "grants", &reply).ok()) return grants;
  for (const auto& value : reply.fields().at("grants").list_value().values()) {
    const auto& f = value.struct_value().fields();
    Grant grant;
    grant.user_code = f.at("user_code").string_value();
    grant.state = static_cast<int>(f.at("state").number_value());
    grant.too_fast = static_cast<int>(f.at("too_fast").number_value());
    for (const auto& ms : f.at("poll_ms").list_value().values()) {
      grant.poll_ms.push_back(static_cast<int64_t>(ms.number_value()));
    }
    grants.push_back(grant);
  }
  return grants;
}

std::string E2eEnv::AwaitGrant(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::vector<Grant> grants = Grants();
    if (!grants.empty()) return grants[0].user_code;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return "";
}

std::string E2eEnv::Admin(const std::string& method, const std::string& path,
                          const std::string& form, int* status) {
  static CurlHttpTransport* transport = [] {
    CurlHttpTransport::GlobalInit();
    return new CurlHttpTransport;
  }();
  HttpRequest request;
  request.method = method;
  request.url = api_url_ + path;
  request.body = form;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  absl::StatusOr<HttpResponse> response = transport->Send(request);
  *status = response.ok() ? response->status : 0;
  return response.ok() ? response->body : "";
}

std::string E2eEnv::MintToken(const std::string& email) {
  int status = 0;
  std::string body = Admin("POST", "/_admin/tokens", "email=" + email, &status);
  google::protobuf::Struct reply;
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(ParseJson(body, "mint reply", &reply).ok());
  std::string token = reply.fields().at("access_token").string_value();
  secrets_.push_back(token);
  return token;
}

bool E2eEnv::TokenActive(const std::string& token) {
  int status = 0;
  std::string body = Admin("POST", "/_admin/introspect", "token=" + token, &status);
  google::protobuf::Struct reply;
  return status == 200 && ParseJson(body, "introspection", &reply).ok() &&
         reply.fields().at("active").bool_value();
}

int E2eEnv::ServerStat(const std::string& name) {
  int status = 0;
  std::string body = Admin("GET", "/_admin/stats", "", &status);
  google::protobuf::Struct reply;
  if (status != 200 || !ParseJson(body, "stats", &reply).ok()) return -1;
  auto it = reply.fields().find(name);
  return it == reply.fields().end() ? -1 : static_cast<int>(it->second.number_value());
}

int E2eEnv::AdminPost(const std::string& path, const std::string& form) {
  int status = 0;
  Admin("POST", path, form, &status);
  return status;
}

void E2eEnv::StopServer() {
  if (server_) {
    // Everything the server issued (tokens, refresh tokens, device codes) is a secret that no
    // output or log may show.
    int status = 0;
    std::string issued = Admin("GET", "/_admin/secrets", "", &status);
    if (status == 200) {
      for (absl::string_view secret : absl::StrSplit(issued, '\n', absl::SkipEmpty())) {
        secrets_.emplace_back(secret);
      }
    }
    server_->Signal(SIGTERM);
    if (server_->Wait(absl::Seconds(5)) < 0) server_->Signal(SIGKILL);
    server_.reset();
  }
}

std::string E2eEnv::SignedIn() {
  std::string token = MintToken();
  WriteCredentials(token);
  RunResult r = Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return token;
}

void E2eEnv::WriteCredentials(const std::string& token, const std::string& org,
                              const std::string& api_url) {
  std::string folder = dir_ + "/cfg/datagen";
  mkdir(folder.c_str(), 0700);
  WriteFile(credentials_path(),
            absl::StrCat("{\"token\": \"", token, "\", \"email\": \"you@yourcompany.com\", ",
                         "\"active_org_slug\": \"", org,
                         "\", \"stored_at\": \"2026-11-27T10:00:00Z\", \"api_url\": \"",
                         api_url.empty() ? api_url_ : api_url, "\"}\n"));
}

pid_t E2eEnv::AgentPid() const {
  int pid = -1;
  std::string text = ReadFile(socket_path() + ".lock");
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) return -1;
  // An agent that has exited is no agent, even before its parent (a `datagen` that started it,
  // such as a watch) has reaped it: kill(pid, 0) succeeds on a zombie (AwaitGone agrees).
  return AwaitGone(pid, absl::ZeroDuration()) ? -1 : pid;
}

bool E2eEnv::StopAgent() {
  pid_t pid = AgentPid();
  if (pid <= 0) return true;
  kill(pid, SIGTERM);
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (kill(pid, 0) == 0 && absl::Now() < deadline) {
    // The agent is our child's child: reparented to init (or a subreaper), not ours to reap.
    std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
    if (stat.find(") Z") != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (kill(pid, 0) == 0) {
    kill(pid, SIGKILL);
    return false;
  }
  return true;
}

std::string E2eEnv::AgentLog() const { return ReadFile(socket_dir() + "/agent.log"); }

ForeignSocket::ForeignSocket(const std::string& dir)
    : path_(dir + "/theirs/agent.sock"), record_(dir + "/theirs.record") {
  const std::string folder = Dirname(path_);
  EXPECT_EQ(mkdir(folder.c_str(), 0755), 0) << folder;
  listener_ = Child({"/usr/bin/python3", Runfile("tests/testing/listener.py"), path_, record_}, {},
                    dir + "/theirs.out", dir + "/theirs.err");
  EXPECT_TRUE(WaitUntil([&] { return !ReadFile(record_).empty(); }))
      << ReadFile(dir + "/theirs.err");
  EXPECT_EQ(chown(folder.c_str(), 65534, 65534), 0) << folder;
}

std::string ForeignSocket::Record() const {
  return std::string(absl::StripAsciiWhitespace(ReadFile(record_)));
}

}  // namespace datagen::testing
