// A fleet of agents through an identity-server outage, simulated with the agent's own refresh
// schedule and backoff (agent/refresh_schedule, agent/common/backoff): no network, no threads,
// simulated time. Each simulated agent holds a one-hour token with a refresh token, issued at a
// random moment of the cycle before the simulation starts (a fleet in its steady state), and
// refreshes when RefreshSchedule says; during the outage every request fails at once (a
// refused connection), and RefreshSchedule::Failed says when to try again.
//
// It prints the steady rate (requests per second over the hour before the outage), the peak
// after the server returns (the busiest 10-second window of the three hours after, in
// requests per second) and their ratio, with the agents' jitter (a seeded SeededRandom) and
// without it (FixedRandom(1.0): every wait the longest of its range, the schedule without
// jitter).
//
//   bazel run -c opt //tools/fleet:fleet_sim -- [--agents=100000] [--outage=10m] [--seed=1]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/common/proto_time.h"
#include "agent/common/random.h"
#include "agent/session/refresh_schedule.h"

namespace datagen {
namespace {

constexpr absl::Duration kLifetime = absl::Hours(1);
constexpr absl::Duration kWindow = absl::Seconds(10);

struct Options {
  int agents = 100000;
  absl::Duration outage = absl::Minutes(10);
  uint64_t seed = 1;
  // How many of the agents are an office whose laptops resume together (within a second, as a
  // VPN reconnects them) two minutes into the outage, each with a token that expired overnight:
  // a fleet in step, the case jitter exists for. 0: none.
  int office = 0;
};

struct Figures {
  double steady = 0;   // requests per second, over the hour before the outage
  double peak = 0;     // the busiest window after the outage, in requests per second
  double peak_at = 0;  // seconds after the server returned, where that window starts
  long failed = 0;     // requests refused during the outage
};

struct Agent {
  agent::v1::Credentials credentials;
  RefreshSchedule schedule;
  explicit Agent(Random& random) : schedule(random) {}
};

// Times are seconds of simulated time from the start; wall and boot time are the same here
// (nobody sets the clock, nothing is suspended), offset so wall instants look real.
Figures Run(const Options& options, Random& random, Random& placement) {
  const absl::Time epoch = absl::FromUnixSeconds(1800000000);
  const absl::Time outage_start = epoch + absl::Hours(2);
  const absl::Time outage_end = outage_start + options.outage;
  const absl::Time end = outage_end + absl::Hours(3);
  std::vector<Agent> fleet;
  fleet.reserve(options.agents);
  using Due = std::pair<absl::Time, int>;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> queue;
  const absl::Time resume = outage_start + absl::Minutes(2);
  for (int i = 0; i < options.agents; ++i) {
    fleet.emplace_back(random);
    Agent& a = fleet.back();
    if (i < options.office) {
      // Suspended overnight: the token expired hours ago; the wake loop's CLOCK_BOOTTIME timer
      // fires at resume, so the overdue refresh runs then.
      absl::Time issued = resume - absl::Hours(10);
      a.credentials.set_refresh_token("r");
      SetTime(issued, a.credentials.mutable_stored_at());
      SetTime(issued + kLifetime, a.credentials.mutable_token_expires_at());
      queue.push({resume + absl::Seconds(placement.Uniform01()), i});
      continue;
    }
    // Issued at a random moment of the last cycle (a token lives an hour and is refreshed at
    // most 5 minutes before it ends), so that no refresh is overdue at the start.
    absl::Time issued = epoch - (kLifetime - RefreshSchedule::kMaxLead) * placement.Uniform01();
    a.credentials.set_refresh_token("r");
    SetTime(issued, a.credentials.mutable_stored_at());
    SetTime(issued + kLifetime, a.credentials.mutable_token_expires_at());
    queue.push({a.schedule.Due(a.credentials, epoch, epoch), i});
  }
  const int64_t windows = (end - epoch) / kWindow + 1;
  std::vector<long> per_window(windows, 0);
  Figures figures;
  while (!queue.empty() && queue.top().first < end) {
    auto [now, i] = queue.top();
    queue.pop();
    Agent& a = fleet[i];
    ++per_window[(now - epoch) / kWindow];
    if (now >= outage_start && now < outage_end) {
      ++figures.failed;
      queue.push({now + a.schedule.Failed(now), i});
      continue;
    }
    SetTime(now, a.credentials.mutable_stored_at());
    SetTime(now + kLifetime, a.credentials.mutable_token_expires_at());
    a.schedule.Reset();
    queue.push({a.schedule.Due(a.credentials, now, now), i});
  }
  const double per_second = absl::ToDoubleSeconds(kWindow);
  long steady_requests = 0;
  int64_t first = absl::Hours(1) / kWindow, last = absl::Hours(2) / kWindow;
  for (int64_t w = first; w < last; ++w) steady_requests += per_window[w];
  figures.steady = steady_requests / absl::ToDoubleSeconds(absl::Hours(1));
  for (int64_t w = (outage_end - epoch) / kWindow; w < windows; ++w) {
    double rate = per_window[w] / per_second;
    if (rate > figures.peak) {
      figures.peak = rate;
      figures.peak_at = absl::ToDoubleSeconds(epoch + w * kWindow - outage_end);
    }
  }
  return figures;
}

void Print(const char* name, const Figures& f) {
  std::printf(
      "%-16s steady %7.1f req/s   peak after recovery %7.1f req/s (%+.0f s)   "
      "peak/steady %5.2fx   refused during the outage %ld\n",
      name, f.steady, f.peak, f.peak_at, f.peak / f.steady, f.failed);
}

bool Flag(const char* arg, const char* name, std::string* value) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

}  // namespace
}  // namespace datagen

int main(int argc, char** argv) {
  datagen::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    bool ok = true;
    if (datagen::Flag(argv[i], "--agents", &value)) {
      ok = absl::SimpleAtoi(value, &options.agents) && options.agents > 0;
    } else if (datagen::Flag(argv[i], "--outage", &value)) {
      ok = absl::ParseDuration(value, &options.outage) && options.outage > absl::ZeroDuration();
    } else if (datagen::Flag(argv[i], "--seed", &value)) {
      ok = absl::SimpleAtoi(value, &options.seed);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "fleet_sim: bad argument %s (--agents=N --outage=DURATION --seed=N)\n",
                   argv[i]);
      return 2;
    }
  }
  std::printf("%d agents, one-hour tokens, a %s outage that refuses every request at once\n",
              options.agents, absl::FormatDuration(options.outage).c_str());
  datagen::SeededRandom placement_a(options.seed), placement_b(options.seed);
  datagen::SeededRandom jitter(options.seed + 1);
  datagen::FixedRandom none(1.0);
  datagen::Figures with = datagen::Run(options, jitter, placement_a);
  datagen::Figures without = datagen::Run(options, none, placement_b);
  datagen::Print("with jitter", with);
  datagen::Print("without jitter", without);
  // The same fleet, a fifth of it an office that resumes together during the outage.
  options.office = options.agents / 5;
  std::printf(
      "the same, %d of them an office whose laptops resume together 2 minutes into the "
      "outage, their tokens expired overnight\n",
      options.office);
  datagen::SeededRandom placement_c(options.seed), placement_d(options.seed);
  datagen::SeededRandom jitter_office(options.seed + 1);
  datagen::Print("with jitter", datagen::Run(options, jitter_office, placement_c));
  datagen::Print("without jitter", datagen::Run(options, none, placement_d));
  return 0;
}
