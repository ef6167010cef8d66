// When a request-rate load sends its requests (perf_analyzer's --request-rate-range with
// --request-distribution): at a constant interval 1/rate, or with exponentially distributed
// intervals of mean 1/rate (a Poisson process), drawn from a seeded generator so that a run can
// be repeated. Thread-compatible: one thread draws at a time.
#pragma once

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace sonic::tools {

enum class RequestDistribution { kConstant, kPoisson };

class RequestSchedule {
 public:
  // `rate` in requests per second, > 0.
  RequestSchedule(double rate, RequestDistribution distribution, uint64_t seed = 1);

  // The offset of the next send from the start of the load; non-decreasing.
  absl::Duration Next();

 private:
  const double rate_;
  const RequestDistribution distribution_;
  std::mt19937_64 rng_;
  double seconds_ = 0;  // offset of the next send
};

}  // namespace sonic::tools
