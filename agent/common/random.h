// Randomness, behind an interface so that tests and simulations control it exactly: the jitter
// of every backoff and of the refresh lead (backoff.h) draws from it.
//
// Thread-safe. Implementations must be usable from any thread.
#ifndef DATAGEN_AGENT_COMMON_RANDOM_H_
#define DATAGEN_AGENT_COMMON_RANDOM_H_

#include <cstdint>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace datagen {

class Random {
 public:
  virtual ~Random() = default;
  // A number in [0, 1].
  virtual double Uniform01() = 0;
};

// A pseudo-random sequence from `seed` (the same seed, the same sequence): what simulations use,
// and, seeded from the kernel's entropy (SeededFromEntropy), what the agent uses.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  static SeededRandom* SeededFromEntropy() {
    std::random_device entropy;
    return new SeededRandom((uint64_t{entropy()} << 32) ^ entropy());
  }
  double Uniform01() override {
    absl::MutexLock lock(&mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  }

 private:
  absl::Mutex mu_;
  std::mt19937_64 engine_ ABSL_GUARDED_BY(mu_);
};

// Always the same number: 1.0 gives the longest wait of every jittered range (the schedule
// without jitter), which tests that assert exact instants use; 0.0 the shortest.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(double value) : value_(value) {}
  double Uniform01() override { return value_; }

 private:
  const double value_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_RANDOM_H_
