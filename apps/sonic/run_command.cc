// `sonic run CONFIG`: the demonstrator job (demonstrator/job/job.h), with its table, validation
// summary and JSON report.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/strings/str_format.h"
#include "commands.h"
#include "demonstrator/job/job.h"
#include "demonstrator/job/job_report.h"

namespace sonic::cli {
namespace {

struct RunFlags {
  std::string config;
  std::string mode;
  std::string models;
  std::string report;
  std::vector<std::string> servers;
  int64_t events = -1;
  int64_t seed = -1;
  int threads = 0;
  int concurrent_events = 0;
  bool validate = false;
  double tolerance = 1e-5;
};

// A progress line on stderr: rewritten in place on a terminal, else one line every 10 s.
class ProgressLine {
 public:
  ProgressLine() : terminal_(isatty(STDERR_FILENO) == 1) {}
  ~ProgressLine() {
    if (terminal_ && shown_) std::fputs("\n", stderr);
  }

  void Show(const framework::Progress& progress) {
    const double seconds = absl::ToDoubleSeconds(progress.elapsed);
    if (!terminal_ && seconds < last_ + 10) return;
    last_ = seconds;
    const double rate = seconds > 0 ? static_cast<double>(progress.events_done) / seconds : 0;
    const double left =
        rate > 0 ? static_cast<double>(progress.events_total - progress.events_done) / rate : 0;
    const std::string line =
        absl::StrFormat("sonic run: %d/%d events, %.1f events/s, about %.0f s left",
                        progress.events_done, progress.events_total, rate, left);
    std::fprintf(stderr, terminal_ ? "\r%s   " : "%s\n", line.c_str());
    std::fflush(stderr);
    shown_ = true;
  }

 private:
  bool terminal_;
  bool shown_ = false;
  double last_ = 0;
};

int Run(const RunFlags& flags) {
  absl::StatusOr<demo::JobConfig> config = demo::LoadJobConfig(flags.config);
  if (!config.ok()) {
    PrintError("run", std::string(config.status().message()));
    return 2;
  }
  if (!flags.mode.empty()) {
    absl::StatusOr<demo::InferenceMode> mode = demo::ParseInferenceMode(flags.mode);
    if (!mode.ok()) {
      PrintError("run", std::string(mode.status().message()));
      return 2;
    }
    config->mode = *mode;
  }
  if (!flags.models.empty()) config->models = std::filesystem::absolute(flags.models);
  if (flags.events >= 0) config->events = static_cast<uint64_t>(flags.events);
  if (flags.seed >= 0) config->seed = static_cast<uint64_t>(flags.seed);
  if (flags.threads > 0) config->threads = flags.threads;
  if (flags.concurrent_events > 0) config->concurrent_events = flags.concurrent_events;
  for (const std::string& address : flags.servers) {
    if (address.find(':') == std::string::npos) {
      PrintError("run", "--server '" + address + "' is not host:port");
      return 2;
    }
    config->service.servers.push_back(
        {"cli" + std::to_string(config->service.servers.size()), address, {}});
  }

  demo::JobOptions options;
  options.validate = flags.validate;
  options.tolerance = flags.tolerance;
  ProgressLine progress;
  options.on_progress = [&progress](const framework::Progress& p) { progress.Show(p); };
  absl::StatusOr<demo::JobResult> result = demo::RunJob(*config, options);
  if (!result.ok()) {
    PrintError("run", std::string(result.status().message()));
    return 1;
  }
  std::cout << demo::FormatJobReport(*config, *result) << std::flush;
  if (!flags.report.empty()) {
    std::ofstream out(flags.report, std::ios::trunc);
    out << demo::JobReportJson(*config, *result).dump(2) << "\n";
    if (!out) {
      PrintError("run", "cannot write " + flags.report);
      return 1;
    }
  }
  return result->validation && !result->validation->passed() ? 1 : 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, int& exit_code) {
  CLI::App* run = app.add_subcommand(
      "run", "Run the demonstrator job (ParticleNet, DeepTau, DeepMET on ttbar-like events)");
  auto flags = std::make_shared<RunFlags>();
  run->add_option("config", flags->config, "The job's YAML config")->required();
  run->add_option("--mode", flags->mode, "direct | sonic (default: the config's)");
  run->add_option("--events", flags->events, "Events to process (default: the config's)");
  run->add_option("--seed", flags->seed, "Seed of the events (default: the config's)");
  run->add_option("--threads", flags->threads, "Framework threads (default: the config's)");
  run->add_option("--concurrent-events", flags->concurrent_events,
                  "Events in flight (default: the config's)");
  run->add_option("--models", flags->models, "Model repository (default: the config's)");
  run->add_option("--server", flags->servers,
                  "An inference server (host:port) for the SONIC modules, besides the config's "
                  "(repeatable)");
  run->add_flag("--validate", flags->validate,
                "Run the events again the other way (direct vs SONIC) and compare every ML "
                "output; exit 1 when a difference exceeds the tolerance");
  run->add_option("--tolerance", flags->tolerance,
                  "Largest accepted |a - b| / max(1, |a|, |b|) in validation")
      ->capture_default_str();
  run->add_option("--report", flags->report, "Write the report as JSON to this file");
  run->callback([flags, &exit_code] { exit_code = Run(*flags); });
}

}  // namespace sonic::cli
