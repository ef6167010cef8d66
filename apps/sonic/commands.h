// The subcommands of the `sonic` tool. Each Add*Command registers one subcommand (with its
// flags) on `app`; when that subcommand runs, its callback does the work and stores the process
// exit status in `exit_code` (0 success, 1 failure, 2 bad usage).
#pragma once

#include "CLI/CLI.hpp"

namespace sonic::cli {

// `sonic models generate`: the demonstrator's models (models_command.cc).
void AddModelsCommand(CLI::App& app, int& exit_code);

// `sonic run`: the demonstrator job (run_command.cc).
void AddRunCommand(CLI::App& app, int& exit_code);

// `sonic perf`: perf_analyzer-compatible load and report (perf_command.cc).
void AddPerfCommand(CLI::App& app, int& exit_code);

// `sonic scan`: the saturation scan, and its hidden client job `sonic scan-job`
// (scan_command.cc).
void AddScanCommand(CLI::App& app, int& exit_code);

// `sonic plan`: a deployment plan from measured profiles (plan_command.cc).
void AddPlanCommand(CLI::App& app, int& exit_code);

// Helper for callbacks: prints "sonic <command>: <message>" on stderr.
void PrintError(const std::string& command, const std::string& message);

}  // namespace sonic::cli
