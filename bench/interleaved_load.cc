#include "interleaved_load.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double ThisProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// utime + stime of `pid` (fields 14 and 15 of /proc/<pid>/stat, counted after the command name,
// which may hold spaces, in clock ticks).
absl::StatusOr<double> ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos) {
    return absl::InternalError(absl::StrCat("cannot read /proc/", pid, "/stat"));
  }
  std::istringstream fields(stat.substr(name_end + 1));
  std::string skipped;
  for (int field = 3; field <= 13; ++field) fields >> skipped;
  uint64_t user_ticks = 0, system_ticks = 0;
  if (!(fields >> user_ticks >> system_ticks)) {
    return absl::InternalError(absl::StrCat("no CPU times in /proc/", pid, "/stat"));
  }
  return static_cast<double>(user_ticks + system_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Tally {
  int64_t failures = 0;
  std::string first_error;
  std::vector<absl::Duration> latencies;  // Of the successes.
  double seconds = 0;
  double client_cpu_seconds = 0;
  double server_cpu_seconds = 0;
};

// One window of every client of a side, each in its own thread, each sending until `window` has
// passed; returns when the last answer is in.
void RunWindow(std::vector<RoundTrip>& clients, absl::Duration window, Tally& tally) {
  const SteadyClock::time_point start = SteadyClock::now();
  const SteadyClock::time_point end = start + absl::ToChronoNanoseconds(window);
  std::vector<Tally> per_client(clients.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&round_trip = clients[i], &mine = per_client[i], end] {
      for (SteadyClock::time_point begin = SteadyClock::now(); begin < end;
           begin = SteadyClock::now()) {
        const absl::Status status = round_trip();
        if (status.ok()) {
          mine.latencies.push_back(absl::FromChrono(SteadyClock::now() - begin));
        } else if (mine.failures++ == 0) {
          mine.first_error = status.ToString();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  tally.seconds += std::chrono::duration<double>(SteadyClock::now() - start).count();
  for (Tally& client : per_client) {
    tally.failures += client.failures;
    if (tally.first_error.empty()) tally.first_error = client.first_error;
    tally.latencies.insert(tally.latencies.end(), client.latencies.begin(), client.latencies.end());
  }
}

// RunWindow with the CPU time this process and the side's server spent in it.
absl::Status RunMeasuredWindow(std::vector<RoundTrip>& clients, const LoadSide& side,
                               absl::Duration window, Tally& tally) {
  double server_before = 0;
  if (side.server_pid != 0) {
    SONIC_ASSIGN_OR_RETURN(server_before, ProcessCpuSeconds(side.server_pid));
  }
  const double client_before = ThisProcessCpuSeconds();
  RunWindow(clients, window, tally);
  tally.client_cpu_seconds += ThisProcessCpuSeconds() - client_before;
  if (side.server_pid != 0) {
    SONIC_ASSIGN_OR_RETURN(double server_after, ProcessCpuSeconds(side.server_pid));
    tally.server_cpu_seconds += server_after - server_before;
  }
  return absl::OkStatus();
}

absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double fraction) {
  if (sorted.empty()) return absl::ZeroDuration();
  return sorted[static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1))];
}

SideResult Summarize(Tally& measured, const Tally& warmup) {
  SideResult result;
  std::sort(measured.latencies.begin(), measured.latencies.end());
  result.successes = static_cast<int64_t>(measured.latencies.size());
  result.failures = warmup.failures + measured.failures;
  result.first_error = warmup.first_error.empty() ? measured.first_error : warmup.first_error;
  result.seconds = measured.seconds;
  result.requests_per_second =
      measured.seconds > 0 ? static_cast<double>(result.successes) / measured.seconds : 0;
  result.p50_latency = Percentile(measured.latencies, 0.50);
  result.p99_latency = Percentile(measured.latencies, 0.99);
  result.client_cpu_seconds = measured.client_cpu_seconds;
  result.server_cpu_seconds = measured.server_cpu_seconds;
  return result;
}

// An Eulerian circuit of the complete directed graph on `sides` vertices with a loop at each
// (Hierholzer's algorithm): sides x sides vertices, each edge (a, b) once as "b right after a".
std::vector<size_t> BalancedCycle(size_t sides) {
  std::vector<size_t> next_successor(sides, 0);
  std::vector<size_t> path = {0}, cycle;
  while (!path.empty()) {
    const size_t side = path.back();
    if (next_successor[side] < sides) {
      path.push_back(next_successor[side]++);
    } else {
      cycle.push_back(side);
      path.pop_back();
    }
  }
  std::reverse(cycle.begin(), cycle.end());
  cycle.pop_back();  // the closing return to the start
  return cycle;
}

}  // namespace

std::vector<size_t> WindowOrder(size_t sides, int rounds) {
  std::vector<size_t> order;
  if (sides == 0 || rounds < 1) return order;
  const size_t windows =
      (static_cast<size_t>(rounds) + sides - 1) / sides * sides * sides;  // whole cycles
  const std::vector<size_t> cycle = BalancedCycle(sides);
  // Start right after the last side's own loop, so the first window follows the warm-up's last.
  size_t start = 0;
  while (!(cycle[start] == sides - 1 && cycle[(start + 1) % cycle.size()] == sides - 1)) ++start;
  for (size_t i = 0; i < windows; ++i) order.push_back(cycle[(start + 1 + i) % cycle.size()]);
  return order;
}

double SideResult::ClientCpuUsPerRequest() const {
  return successes == 0 ? 0 : client_cpu_seconds * 1e6 / static_cast<double>(successes);
}

double SideResult::ServerCpuUsPerRequest() const {
  return successes == 0 ? 0 : server_cpu_seconds * 1e6 / static_cast<double>(successes);
}

absl::StatusOr<std::vector<SideResult>> RunInterleaved(const InterleavedOptions& options,
                                                       const std::vector<LoadSide>& sides) {
  const bool valid_sides = std::all_of(sides.begin(), sides.end(),
                                       [](const LoadSide& side) { return side.clients >= 0; });
  if (sides.empty() || !valid_sides || options.clients < 1 ||
      options.window <= absl::ZeroDuration() || options.rounds < 1) {
    return absl::InvalidArgumentError(
        "interleaved load needs sides, at least one client, a positive window and one round");
  }
  std::vector<std::vector<RoundTrip>> clients(sides.size());
  for (size_t s = 0; s < sides.size(); ++s) {
    const int count = sides[s].clients > 0 ? sides[s].clients : options.clients;
    for (int c = 0; c < count; ++c) {
      SONIC_ASSIGN_OR_RETURN(RoundTrip client, sides[s].make_client());
      clients[s].push_back(std::move(client));
    }
  }
  std::vector<Tally> warmup(sides.size()), measured(sides.size());
  for (int round = 0; round < options.warmup_rounds; ++round) {
    for (size_t s = 0; s < sides.size(); ++s) {
      SONIC_RETURN_IF_ERROR(RunMeasuredWindow(clients[s], sides[s], options.window, warmup[s]));
    }
  }
  for (size_t s : WindowOrder(sides.size(), options.rounds)) {
    SONIC_RETURN_IF_ERROR(RunMeasuredWindow(clients[s], sides[s], options.window, measured[s]));
  }
  std::vector<SideResult> results;
  for (size_t s = 0; s < sides.size(); ++s) results.push_back(Summarize(measured[s], warmup[s]));
  return results;
}

absl::Status CheckAllAnswered(const std::vector<LoadSide>& sides,
                              const std::vector<SideResult>& results) {
  for (size_t i = 0; i < sides.size() && i < results.size(); ++i) {
    if (results[i].failures > 0 || results[i].successes == 0) {
      return absl::InternalError(absl::StrCat(sides[i].name, ": ", results[i].failures,
                                              " failed requests, ", results[i].successes,
                                              " answered; first error: ", results[i].first_error));
    }
  }
  return absl::OkStatus();
}

}  // namespace sonic::bench
