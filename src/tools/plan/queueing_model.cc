#include "queueing_model.h"

#include <cmath>
#include <limits>

namespace sonic::tools {
namespace {

constexpr double kZ99 = 2.3263478740408408;  // the standard normal's 0.99 quantile

}  // namespace

double ServiceTime::Scv() const {
  switch (kind) {
    case Kind::kDeterministic:
      return 0;
    case Kind::kExponential:
      return 1;
    case Kind::kLognormal:
      return std::expm1(sigma * sigma);
  }
  return 0;
}

ServiceTime ServiceTimeFromPercentiles(double mean_s, double p50, double p99) {
  ServiceTime service;
  service.mean_s = mean_s;
  if (p50 > 0 && p99 > p50) {
    service.kind = ServiceTime::Kind::kLognormal;
    service.sigma = std::log(p99 / p50) / kZ99;
  }
  return service;
}

double QueueTimePercentile(double utilization, double mean_wait_s, double p) {
  if (utilization >= 1) return std::numeric_limits<double>::infinity();
  if (utilization <= 0 || mean_wait_s <= 0 || p <= 1 - utilization) return 0;
  return mean_wait_s / utilization * std::log(utilization / (1 - p));
}

QueueTime MG1QueueTime(const std::vector<ArrivalClass>& classes) {
  QueueTime result;
  double second_moment_rate = 0;
  for (const ArrivalClass& c : classes) {
    result.utilization += c.rate_per_s * c.service.mean_s;
    second_moment_rate += c.rate_per_s * c.service.SecondMoment();
  }
  if (result.utilization >= 1) {
    const double infinity = std::numeric_limits<double>::infinity();
    result.stable = false;
    result.mean_s = result.p50_s = result.p90_s = result.p99_s = infinity;
    return result;
  }
  result.mean_s = second_moment_rate / (2 * (1 - result.utilization));
  result.p50_s = QueueTimePercentile(result.utilization, result.mean_s, 0.50);
  result.p90_s = QueueTimePercentile(result.utilization, result.mean_s, 0.90);
  result.p99_s = QueueTimePercentile(result.utilization, result.mean_s, 0.99);
  return result;
}

}  // namespace sonic::tools
