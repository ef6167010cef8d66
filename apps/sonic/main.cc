// sonic: the project's user-facing tool. `sonic --help` lists the subcommands; each lives in its
// own *_command.cc (see commands.h).
#include <iostream>

#include "CLI/CLI.hpp"
#include "commands.h"

namespace sonic::cli {

void PrintError(const std::string& command, const std::string& message) {
  std::cerr << "sonic " << command << ": " << message << std::endl;
}

}  // namespace sonic::cli

int main(int argc, char** argv) {
  CLI::App app{"sonic: inference as a service for event processing (SONIC)", "sonic"};
  app.require_subcommand(1);
  int exit_code = 0;
  sonic::cli::AddModelsCommand(app, exit_code);
  sonic::cli::AddRunCommand(app, exit_code);
  sonic::cli::AddPerfCommand(app, exit_code);
  sonic::cli::AddScanCommand(app, exit_code);
  sonic::cli::AddPlanCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; bad usage exits 2 (commands.h).
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
