// Queue time on a device, in closed form: each GPU is one M/G/1 queue (Poisson arrivals, one
// server working at the device's measured best rate, first come first served), requests of
// several models mixed. Stateless functions and value types; thread-safe.
//
// Formulas (times in seconds, rates per second):
//   utilization        rho = sum_i lambda_i E[S_i]                      (demand / capacity)
//   mean queue time    Wq  = sum_i lambda_i E[S_i^2] / (2 (1 - rho))    (Pollaczek-Khinchine)
//   percentile p       P(W > t) ~= rho exp(-t rho / Wq), so t_p = (Wq / rho) ln(rho / (1 - p))
//                      for p > 1 - rho, else 0 (exact for M/M/1; an exponential tail with the
//                      P-K mean otherwise)
#pragma once

#include <vector>

namespace sonic::tools {

// A service-time distribution: deterministic, exponential, or lognormal with shape `sigma`,
// scaled to mean `mean_s`.
struct ServiceTime {
  enum class Kind { kDeterministic, kExponential, kLognormal };
  Kind kind = Kind::kDeterministic;
  double mean_s = 0;
  double sigma = 0;  // lognormal only

  // Squared coefficient of variation Var(S) / E[S]^2: 0, 1, exp(sigma^2) - 1.
  double Scv() const;
  // E[S^2] = E[S]^2 (1 + scv).
  double SecondMoment() const { return mean_s * mean_s * (1 + Scv()); }
};

// The spread of measured latencies carried over to a service time of mean `mean_s`: a lognormal
// whose p99 / p50 ratio is the measured one (sigma = ln(p99 / p50) / z_0.99, z_0.99 = 2.3263);
// deterministic when p99 <= p50.
ServiceTime ServiceTimeFromPercentiles(double mean_s, double p50, double p99);

// Requests of one model arriving at one queue.
struct ArrivalClass {
  double rate_per_s = 0;
  ServiceTime service;
};

struct QueueTime {
  double utilization = 0;
  bool stable = true;  // utilization < 1; the times below are infinite otherwise
  double mean_s = 0;
  double p50_s = 0;
  double p90_s = 0;
  double p99_s = 0;
};

// M/G/1 queue time of the mixed classes, by the formulas above.
QueueTime MG1QueueTime(const std::vector<ArrivalClass>& classes);

// The percentile `p` in (0, 1) of the queue time under the exponential-tail approximation.
double QueueTimePercentile(double utilization, double mean_wait_s, double p);

}  // namespace sonic::tools
