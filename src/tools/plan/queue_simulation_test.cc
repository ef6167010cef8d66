// The discrete-event queue simulation against closed forms: M/M/1 (mean and percentiles of the
// queue time), M/D/1 and a mixed M/G/1 (Pollaczek-Khinchine mean), M/M/2 (Erlang C); and its
// determinism.
#include "queue_simulation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "queueing_model.h"

namespace sonic::tools {
namespace {

ServiceTime Exponential(double mean) {
  return {ServiceTime::Kind::kExponential, mean, 0};
}

SimulationOptions Long(uint64_t seed = 7) {
  SimulationOptions options;
  options.seed = seed;
  options.requests = 1000000;
  options.warmup = 50000;
  return options;
}

TEST(QueueSimulationTest, MM1MatchesTheClosedForm) {
  // lambda 0.8, mu 1: Wq = rho / (mu - lambda) = 4; P(W > t) = rho exp(-(mu - lambda) t).
  const std::vector<ArrivalClass> classes = {{0.8, Exponential(1.0)}};
  absl::StatusOr<SimulatedQueueTime> sim = SimulateQueue(classes, Long());
  ASSERT_TRUE(sim.ok()) << sim.status();
  const double p50 = std::log(0.8 / 0.5) / 0.2, p90 = std::log(0.8 / 0.1) / 0.2,
               p99 = std::log(0.8 / 0.01) / 0.2;
  EXPECT_NEAR(sim->utilization, 0.8, 0.01);
  EXPECT_NEAR(sim->mean_s, 4, 4 * 0.08);
  EXPECT_NEAR(sim->p50_s, p50, p50 * 0.1);
  EXPECT_NEAR(sim->p90_s, p90, p90 * 0.08);
  EXPECT_NEAR(sim->p99_s, p99, p99 * 0.08);
  // The analytic estimate is exact here.
  const QueueTime analytic = MG1QueueTime(classes);
  EXPECT_NEAR(analytic.mean_s, 4, 1e-12);
  EXPECT_NEAR(analytic.p50_s, p50, 1e-12);
  EXPECT_NEAR(analytic.p90_s, p90, 1e-12);
  EXPECT_NEAR(analytic.p99_s, p99, 1e-12);
}

TEST(QueueSimulationTest, MD1AndMixedClassesMatchPollaczekKhinchine) {
  // M/D/1 at rho 0.7, S = 2: Wq = rho S / (2 (1 - rho)).
  const ServiceTime fixed{ServiceTime::Kind::kDeterministic, 2, 0};
  absl::StatusOr<SimulatedQueueTime> sim = SimulateQueue({{0.35, fixed}}, Long(3));
  ASSERT_TRUE(sim.ok()) << sim.status();
  EXPECT_NEAR(sim->mean_s, 0.7 * 2 / 0.6, 0.7 * 2 / 0.6 * 0.05);
  // Two models on one device: lognormal and exponential service, rho 0.3 + 0.45.
  const std::vector<ArrivalClass> mixed = {
      {30, ServiceTimeFromPercentiles(0.010, 0.008, 0.030)}, {150, Exponential(0.003)}};
  const QueueTime analytic = MG1QueueTime(mixed);
  sim = SimulateQueue(mixed, Long(5));
  ASSERT_TRUE(sim.ok()) << sim.status();
  EXPECT_NEAR(analytic.utilization, 0.75, 1e-12);
  EXPECT_NEAR(sim->utilization, 0.75, 0.01);
  EXPECT_NEAR(sim->mean_s, analytic.mean_s, analytic.mean_s * 0.08);
}

TEST(QueueSimulationTest, MM2MatchesErlangC) {
  // lambda 1.5, mu 1, c 2: a = 1.5, rho 0.75, C = (a^2/2 / (1 - rho)) / (1 + a + a^2/2/(1-rho)).
  SimulationOptions options = Long(11);
  options.servers = 2;
  absl::StatusOr<SimulatedQueueTime> sim = SimulateQueue({{1.5, Exponential(1.0)}}, options);
  ASSERT_TRUE(sim.ok()) << sim.status();
  const double tail = 1.125 / 0.25;
  const double erlang_c = tail / (1 + 1.5 + tail);
  const double wq = erlang_c / (2 - 1.5);
  EXPECT_NEAR(sim->mean_s, wq, wq * 0.08);
  EXPECT_NEAR(sim->utilization, 0.75, 0.01);
}

TEST(QueueSimulationTest, SameSeedSameResultAndBadArgumentsAreRefused) {
  SimulationOptions options;
  options.requests = 20000;
  const std::vector<ArrivalClass> classes = {{0.5, Exponential(1.0)}};
  absl::StatusOr<SimulatedQueueTime> a = SimulateQueue(classes, options);
  absl::StatusOr<SimulatedQueueTime> b = SimulateQueue(classes, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->mean_s, b->mean_s);
  EXPECT_EQ(a->p99_s, b->p99_s);
  options.seed = 2;
  absl::StatusOr<SimulatedQueueTime> c = SimulateQueue(classes, options);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->mean_s, c->mean_s);

  EXPECT_EQ(SimulateQueue({{1.0, Exponential(1.0)}}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SimulateQueue({}, options).status().code(), absl::StatusCode::kInvalidArgument);
  options.servers = 0;
  EXPECT_EQ(SimulateQueue(classes, options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(QueueingModelTest, LognormalFromPercentilesKeepsTheMeanAndSpread) {
  const ServiceTime s = ServiceTimeFromPercentiles(0.004, 10, 20);
  EXPECT_EQ(s.kind, ServiceTime::Kind::kLognormal);
  EXPECT_NEAR(s.sigma, std::log(2.0) / 2.3263478740408408, 1e-12);
  EXPECT_NEAR(s.Scv(), std::expm1(s.sigma * s.sigma), 1e-15);
  EXPECT_EQ(ServiceTimeFromPercentiles(0.004, 10, 10).kind, ServiceTime::Kind::kDeterministic);
  EXPECT_FALSE(MG1QueueTime({{2, Exponential(0.5)}}).stable);
  EXPECT_EQ(QueueTimePercentile(0.5, 1.0, 0.4), 0);  // half the requests never wait
}

}  // namespace
}  // namespace sonic::tools
