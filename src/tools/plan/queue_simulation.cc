#include "queue_simulation.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>
#include <queue>
#include <random>

#include "absl/strings/str_cat.h"

namespace sonic::tools {
namespace {

// Uniform in (0, 1): never 0, so its logarithm is finite.
double Uniform(std::mt19937_64& random) {
  return (static_cast<double>(random() >> 11) + 0.5) * 0x1.0p-53;
}

double StandardNormal(std::mt19937_64& random) {
  const double u1 = Uniform(random);
  const double u2 = Uniform(random);
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

double Sample(const ServiceTime& service, std::mt19937_64& random) {
  switch (service.kind) {
    case ServiceTime::Kind::kDeterministic:
      return service.mean_s;
    case ServiceTime::Kind::kExponential:
      return -std::log(Uniform(random)) * service.mean_s;
    case ServiceTime::Kind::kLognormal: {
      // exp(mu + sigma Z) has mean exp(mu + sigma^2 / 2).
      const double mu = std::log(service.mean_s) - service.sigma * service.sigma / 2;
      return std::exp(mu + service.sigma * StandardNormal(random));
    }
  }
  return service.mean_s;
}

double Percentile(std::vector<double>& values, double p) {
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

absl::Status CheckArguments(const std::vector<ArrivalClass>& classes,
                            const SimulationOptions& options, double total_rate) {
  if (classes.empty() || total_rate <= 0) {
    return absl::InvalidArgumentError("a simulation needs arrivals");
  }
  if (options.requests < 1 || options.warmup < 0 || options.servers < 1) {
    return absl::InvalidArgumentError("a simulation needs requests >= 1 and servers >= 1");
  }
  double load = 0;
  for (const ArrivalClass& c : classes) load += c.rate_per_s * c.service.mean_s;
  if (load >= options.servers) {
    return absl::InvalidArgumentError(
        absl::StrCat("the offered load ", load, " is not below the ", options.servers,
                     " server(s): the queue grows without bound"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SimulatedQueueTime> SimulateQueue(const std::vector<ArrivalClass>& classes,
                                                 const SimulationOptions& options) {
  double total_rate = 0;
  for (const ArrivalClass& c : classes) total_rate += c.rate_per_s;
  if (absl::Status status = CheckArguments(classes, options, total_rate); !status.ok()) {
    return status;
  }
  std::vector<double> cumulative;  // picks the class of each arrival
  for (const ArrivalClass& c : classes) {
    cumulative.push_back((cumulative.empty() ? 0 : cumulative.back()) + c.rate_per_s / total_rate);
  }
  std::mt19937_64 random(options.seed);
  // The events are arrivals (in time order) and service completions (each server's next free
  // time, earliest first); with first come first served a request starts when it arrives or when
  // the earliest server frees, whichever is later.
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int i = 0; i < options.servers; ++i) free_at.push(0);
  std::vector<double> waits;
  waits.reserve(static_cast<size_t>(options.requests));
  double now = 0, busy = 0, measured_from = 0;
  for (int64_t n = 0; n < options.warmup + options.requests; ++n) {
    now += -std::log(Uniform(random)) / total_rate;
    const double pick = Uniform(random);
    const size_t c = static_cast<size_t>(
        std::lower_bound(cumulative.begin(), cumulative.end() - 1, pick) - cumulative.begin());
    const double service = Sample(classes[c].service, random);
    const double start = std::max(now, free_at.top());
    free_at.pop();
    free_at.push(start + service);
    if (n == options.warmup) measured_from = now;
    if (n >= options.warmup) {
      waits.push_back(start - now);
      busy += service;
    }
  }
  SimulatedQueueTime result;
  result.requests = options.requests;
  result.utilization = busy / (options.servers * std::max(now - measured_from, 1e-300));
  double sum = 0;
  for (double wait : waits) sum += wait;
  result.mean_s = sum / static_cast<double>(waits.size());
  result.p50_s = Percentile(waits, 0.50);
  result.p90_s = Percentile(waits, 0.90);
  result.p99_s = Percentile(waits, 0.99);
  return result;
}

}  // namespace sonic::tools
