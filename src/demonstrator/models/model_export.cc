#include "demonstrator/models/model_export.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "sonic/common/status.h"

#ifndef SONIC_DEMO_PYTHON_HOME
#error "SONIC_DEMO_PYTHON_HOME must be defined by the build"
#endif
#ifndef SONIC_DEMO_EXPORTER
#error "SONIC_DEMO_EXPORTER must be defined by the build"
#endif

extern char** environ;

namespace sonic::demo::models {
namespace {

std::string ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Tail(const std::string& text, size_t bytes = 2000) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

// The interpreter and where it came from, for messages.
std::pair<std::filesystem::path, std::string> Python(const ExportRequest& request) {
  if (!request.python.empty()) return {request.python, "as asked"};
  if (const char* home = std::getenv("SONIC_PYTHON_HOME"); home != nullptr && *home != '\0') {
    return {std::filesystem::path(home) / "bin" / "python", "from SONIC_PYTHON_HOME"};
  }
  return {std::filesystem::path(SONIC_DEMO_PYTHON_HOME) / "bin" / "python",
          "the build's virtual environment"};
}

// Runs argv with stdout and stderr into `log`; returns its exit status (128 + signal).
absl::StatusOr<int> Run(const std::vector<std::string>& args, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", args[0], ": ", strerror(error)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

absl::Status WriteWeights(const backends::pytorch::TorchScriptModule& module,
                          const std::filesystem::path& directory, const std::string& set) {
  const std::vector<std::vector<float>> values = backends::pytorch::DrawParameters(module);
  nlohmann::json parameters = nlohmann::json::array();
  std::ofstream data(directory / (set + ".bin"), std::ios::binary | std::ios::trunc);
  for (size_t i = 0; i < values.size(); ++i) {
    parameters.push_back(
        {{"name", module.parameters[i].name}, {"shape", module.parameters[i].shape}});
    // Little-endian float32: the only byte order this project builds for (x86-64, aarch64).
    data.write(reinterpret_cast<const char*>(values[i].data()),
               static_cast<std::streamsize>(values[i].size() * sizeof(float)));
  }
  data.close();
  std::ofstream manifest(directory / (set + ".json"), std::ios::trunc);
  manifest << nlohmann::json{{"parameters", parameters}}.dump();
  manifest.close();
  if (!data || !manifest) {
    return absl::InternalError(
        absl::StrCat("cannot write the weights of ", set, " to ", directory.string()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExportResult> RunExporter(const ExportRequest& request) {
  ExportResult result;
  const auto [python, origin] = Python(request);
  const std::filesystem::path exporter =
      request.exporter.empty() ? std::filesystem::path(SONIC_DEMO_EXPORTER) : request.exporter;
  std::string missing;
  std::error_code error;
  if (!std::filesystem::exists(python, error)) {
    missing = absl::StrCat("no Python interpreter at ", python.string(), " (", origin,
                           "); run scripts/bootstrap.sh, or set SONIC_PYTHON_HOME to the project's "
                           "virtual environment");
  } else if (!std::filesystem::is_regular_file(exporter, error)) {
    missing = absl::StrCat("the exporter ", exporter.string(), " is missing");
  }
  if (!missing.empty()) {
    for (const std::string& format : request.formats) result.skipped[format] = missing;
    return result;
  }
  const std::filesystem::path log = request.weights / "export.log";
  const std::filesystem::path report = request.weights / "result.json";
  // -B: no __pycache__ beside the script (it may be in a source tree).
  SONIC_ASSIGN_OR_RETURN(int exit_code,
                         Run({python.string(), "-B", exporter.string(), "--weights",
                              request.weights.string(), "--out", request.out.string(), "--result",
                              report.string(), "--formats", absl::StrJoin(request.formats, ",")},
                             log));
  if (exit_code != 0) {
    return absl::InternalError(absl::StrCat(exporter.string(), " (", python.string(),
                                            ") failed with exit status ", exit_code, ": ",
                                            Tail(ReadFile(log))));
  }
  const nlohmann::json parsed = nlohmann::json::parse(ReadFile(report), nullptr, false);
  if (!parsed.is_object() || !parsed.contains("written") || !parsed.contains("skipped")) {
    return absl::InternalError(
        absl::StrCat(exporter.string(), " wrote no valid result to ", report.string()));
  }
  for (const auto& [format, names] : parsed["written"].items()) {
    if (!names.is_array()) continue;
    for (const auto& name : names) {
      if (name.is_string()) result.written[format].push_back(name.get<std::string>());
    }
  }
  for (const auto& [format, why] : parsed["skipped"].items()) {
    if (why.is_string()) result.skipped[format] = why.get<std::string>();
  }
  return result;
}

}  // namespace sonic::demo::models
