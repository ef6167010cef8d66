// The perf_analyzer flags whose feature `sonic perf` lacks. They are registered with the parser
// so that a script written for perf_analyzer gets a message naming the flag and what is missing,
// instead of CLI11's generic complaint or, worse, a silently different measurement.
//
// Thread-compatible; the options live as long as the CLI::App they are added to.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace sonic::cli {

class RefusedFlags {
 public:
  // Registers every refused flag on `command` (hidden from --help's groups of sonic's own).
  void AddTo(CLI::App& command);

  // "perf_analyzer's --X is not supported by sonic perf: <why>" for the first refused flag
  // given (in registration order), or nothing.
  std::optional<std::string> FirstGiven() const;

 private:
  struct Refused {
    CLI::Option* option;
    std::string name;
    std::string why;
  };
  std::vector<Refused> refused_;
  std::vector<std::string> values_;  // what the refused options parse into (unused)
  std::string service_kind_;
};

}  // namespace sonic::cli
