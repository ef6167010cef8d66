#include "demonstrator/models/model_export.h"

#include <dlfcn.h>
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
#include "backends/python_host/python_environment.h"
#include "nlohmann/json.hpp"
#include "sonic/common/status.h"

#if !defined(SONIC_DEMO_EXPORTER) || !defined(SONIC_BUILD_DIR)
#error "SONIC_DEMO_EXPORTER and SONIC_BUILD_DIR must be defined by the build"
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

// The interpreter and where it came from, for messages; the error says why there is none.
absl::StatusOr<std::pair<std::filesystem::path, std::string>> Python(const ExportRequest& request) {
  if (!request.python.empty()) return std::pair{request.python, std::string("as asked")};
  absl::StatusOr<backends::python_host::PythonEnvironment> environment =
      backends::python_host::DefaultPythonEnvironment(reinterpret_cast<const void*>(&RunExporter));
  if (!environment.ok()) return environment.status();
  return std::pair{environment->path / "bin" / "python", "from " + environment->origin};
}

// The exporter: the source tree's for code inside the build folder, else the installed copy,
// <prefix>/share/sonic/export_models.py beside <prefix>/lib holding this code's library.
std::filesystem::path Exporter(const ExportRequest& request) {
  if (!request.exporter.empty()) return request.exporter;
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&RunExporter), &info) == 0 ||
      info.dli_fname == nullptr) {
    return SONIC_DEMO_EXPORTER;
  }
  const std::filesystem::path module = info.dli_fname;
  if (!module.is_absolute() || backends::python_host::IsInside(module, SONIC_BUILD_DIR)) {
    return SONIC_DEMO_EXPORTER;
  }
  return module.parent_path().parent_path() / "share" / "sonic" / "export_models.py";
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
  absl::StatusOr<std::pair<std::filesystem::path, std::string>> found = Python(request);
  const auto [python, origin] =
      found.ok() ? *found : std::pair<std::filesystem::path, std::string>{};
  const std::filesystem::path exporter = Exporter(request);
  std::string missing;
  std::error_code error;
  if (!found.ok()) {
    missing = std::string(found.status().message());
  } else if (!std::filesystem::exists(python, error)) {
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
