// The result file of one benchmark scenario: each figure of ours beside its physical floor
// (transport, compute, copies; see docs/DESIGN.md "Performance: how it is measured"), their
// ratio and the target the ratio must reach, with the facts needed to compare runs later
// (commit, machine, date). Ratios are what a benchmark judges: both sides are measured in the
// same run on the same (shared, noisy) machine, so bare times are reported only for information.
//
// Written as <dir>/<scenario>.json:
//   {"scenario": ..., "date": ISO-8601 UTC, "commit": ..., "commit_dirty": bool,
//    "machine": {"nproc", "cpu_model", "memory_bytes", "kernel"},
//    "notes": {key: text}, "tables": {key: {label: number}},
//    "figures": [{"name", "value", "unit", "floor", "floor_value", "ratio", "target",
//                 "higher_is_better", "result": "pass" | "miss" | "info"}]}
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace sonic::bench {

// One measured figure. A ratio figure compares `value` with `floor_value` (ratio =
// value / floor_value) against `target`; a comparison has a floor and a ratio but no target; an
// informational figure has neither.
struct Figure {
  std::string name;
  double value = 0;
  std::string unit;
  std::string floor;  // What the floor is, e.g. "in-process batch 16"; empty without a floor.
  std::optional<double> floor_value;
  std::optional<double> ratio;
  std::optional<double> target;
  bool higher_is_better = true;

  // "pass" or "miss" for a figure with a target, else "info".
  std::string Result() const;
};

// Where the build, the run and the machine are.
struct MachineFacts {
  int nproc = 0;
  std::string cpu_model;      // "model name" of /proc/cpuinfo; empty when unknown.
  uint64_t memory_bytes = 0;  // MemTotal of /proc/meminfo; 0 when unknown.
  std::string kernel;         // uname -sr.
};
MachineFacts ReadMachineFacts();

// The 1, 5 and 15 minute load averages of /proc/loadavg, e.g. "0.52 0.81 1.02" (how busy the
// shared machine was around a run); empty when unknown.
std::string ReadLoadAverage();

// `git rev-parse HEAD` in `source_dir` and whether the tree has uncommitted changes; nullopt when
// git or the repository is unavailable (e.g. a source tarball).
struct Commit {
  std::string hash;
  bool dirty = false;
};
std::optional<Commit> ReadCommit(const std::filesystem::path& source_dir);

// Collects the figures of one scenario. Not thread-safe: fill it from one thread once the
// measurements are done.
class BenchReport {
 public:
  explicit BenchReport(std::string scenario) : scenario_(std::move(scenario)) {}

  // A figure judged by value / floor_value against `target` (at least `target` when higher is
  // better, at most otherwise). A floor of 0 gives no ratio, which misses the target.
  void AddRatio(std::string name, double value, std::string unit, std::string floor,
                double floor_value, double target, bool higher_is_better = true);
  // A figure beside its floor, with their ratio but no target to judge it by ("info").
  void AddComparison(std::string name, double value, std::string unit, std::string floor,
                     double floor_value);
  // A figure reported for information only.
  void AddInfo(std::string name, double value, std::string unit);
  // Free-form facts about the run (model sizes, thread choice, flags).
  void AddNote(std::string key, std::string text);
  // A small named table of numbers (e.g. executions per batch size).
  void AddTable(std::string key, std::vector<std::pair<std::string, double>> rows);

  // The JSON document described above, with `commit` (null when absent) and `machine`.
  std::string ToJson(const std::optional<Commit>& commit, const MachineFacts& machine) const;
  // Writes ToJson to <dir>/<scenario>.json (creating `dir`); INTERNAL when it cannot.
  absl::Status WriteJson(const std::filesystem::path& dir, const std::optional<Commit>& commit,
                         const MachineFacts& machine) const;
  // One line per figure: name, value, floor, ratio, target and result.
  void PrintSummary(std::ostream& out) const;

  // Whether every figure with a target passed.
  bool AllTargetsMet() const;
  const std::vector<Figure>& figures() const { return figures_; }

 private:
  std::string scenario_;
  std::vector<Figure> figures_;
  std::vector<std::pair<std::string, std::string>> notes_;
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> tables_;
};

}  // namespace sonic::bench
