// tools/fleet/fleet_sim (issue 21, finding 10) runs as its README says, on the agent's own
// schedule: a fleet in step stampedes without jitter and spreads with it, and the outage the
// issue names stays under 3x the steady rate with jitter. A smaller fleet than the README's, for
// time; the ratios do not depend on the fleet's size.
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace datagen::testing {
namespace {

// The peak/steady ratios, in the order printed.
std::vector<double> Ratios(const std::string& out) {
  std::vector<double> ratios;
  std::regex ratio("peak/steady +([0-9.]+)x");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), ratio); it != std::sregex_iterator();
       ++it) {
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod((*it)[1].str(), &value));
    ratios.push_back(value);
  }
  return ratios;
}

TEST(FleetSim, JitterSpreadsAFleetInStepAndTheOutageStaysUnderThreeTimesTheSteadyRate) {
  RunResult r = RunProcess({Runfile("tools/fleet/fleet_sim"), "--agents=20000", "--seed=3"}, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("20000 agents, one-hour tokens, a 10m outage"));
  std::vector<double> ratios = Ratios(r.out);
  ASSERT_EQ(ratios.size(), 4u) << r.out;
  EXPECT_LE(ratios[0], 3.0) << "the fleet with jitter\n" << r.out;
  EXPECT_GT(ratios[3], 10 * ratios[2]) << "an office in step: without jitter against with\n"
                                       << r.out;
}

TEST(FleetSim, BadArgumentsExit2) {
  for (const char* arg : {"--agents=0", "--outage=soon", "--frobnicate"}) {
    RunResult r = RunProcess({Runfile("tools/fleet/fleet_sim"), arg}, {});
    EXPECT_EQ(r.exit_code, 2) << arg;
    EXPECT_THAT(r.err, ::testing::HasSubstr("bad argument")) << arg;
  }
}

}  // namespace
}  // namespace datagen::testing
