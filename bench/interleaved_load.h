// Closed-loop load on several sides of a comparison (ours and its floor) that take turns in
// short windows, so that load from elsewhere on a shared machine hits every side alike rather than
// whichever phase happened to run while it lasted. What ran just before a window moves that
// window's figures too (on a 2-core machine, with 4 and 8 clients, the echo server's throughput in
// a window right after another side's was 20-27% below one right after its own): the turns follow
// WindowOrder, in which every side comes right after every side, itself included, equally often.
// Each side's latencies, throughput and CPU time (of this process and of the side's server) are
// summed over its windows.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sonic::bench {

// One request of one client, blocking until its answer is in and checked. An error is counted
// as a failed request.
using RoundTrip = std::function<absl::Status()>;

struct LoadSide {
  std::string name;
  // Makes one client (its own channel, hence its own connection); called once per client before
  // the first window. Each client is then used by one thread at a time.
  std::function<absl::StatusOr<RoundTrip>()> make_client;
  // The server answering this side, whose CPU time is read from /proc/<pid>/stat; 0: none.
  pid_t server_pid = 0;
  // Concurrent closed-loop clients of this side; 0: InterleavedOptions::clients. (An in-process
  // floor may need fewer threads than a server side needs requests in flight.)
  int clients = 0;
};

struct InterleavedOptions {
  int clients = 1;  // Concurrent closed-loop clients per side (unless the side sets its own).
  absl::Duration window = absl::Milliseconds(500);  // One side's turn.
  // Measured rounds: a round's worth of windows gives every side one window. Rounded up to a
  // multiple of the number of sides, over which WindowOrder is balanced.
  int rounds = 6;
  int warmup_rounds = 1;  // Rounds run first (the sides in order) and not counted.
};

struct SideResult {
  int64_t successes = 0;  // Over the measured windows.
  int64_t failures = 0;   // Warm-up included.
  std::string first_error;
  // The measured windows' length, each until its last answer came in (a closed loop's requests
  // run past the window's end; counting that time keeps the throughput exact).
  double seconds = 0;
  double requests_per_second = 0;  // successes / seconds.
  absl::Duration p50_latency;      // Of the successes; zero when there were none.
  absl::Duration p99_latency;
  double client_cpu_seconds = 0;  // This process, user + system, over the measured windows.
  double server_cpu_seconds = 0;  // The side's server (0 without server_pid).

  // CPU microseconds per answered request; 0 when none was.
  double ClientCpuUsPerRequest() const;
  double ServerCpuUsPerRequest() const;
};

// The side (0 .. sides - 1) of each measured window of `rounds` rounds, rounded up to a multiple
// of `sides`, after warm-up windows that ended with side sides - 1. The windows repeat a cycle of
// sides x sides in which each side has sides windows and comes right after each side, itself
// included, once. Two sides, two rounds: 1 0 0 1 (A B, B A, A B ... after a warm-up A B).
std::vector<size_t> WindowOrder(size_t sides, int rounds);

// Makes every side's clients, runs warmup_rounds rounds then the measured rounds in WindowOrder,
// and returns one result per side, in the order of `sides`.
// Blocks until done. Errors: INVALID_ARGUMENT for no sides, options.clients < 1, a side's
// clients < 0, a non-positive window or rounds < 1; a make_client error, unchanged; INTERNAL
// when a server's /proc/<pid>/stat cannot be read.
absl::StatusOr<std::vector<SideResult>> RunInterleaved(const InterleavedOptions& options,
                                                       const std::vector<LoadSide>& sides);

// INTERNAL naming the first side (in the order of `sides`, aligned with `results`) that had a
// failed request or no answer at all, with its first error: a benchmark whose requests fail
// measures nothing.
absl::Status CheckAllAnswered(const std::vector<LoadSide>& sides,
                              const std::vector<SideResult>& results);

}  // namespace sonic::bench
