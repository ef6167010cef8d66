// The demonstrator's models in formats other than TorchScript: the weights drawn for TorchScript
// written to a folder (per weight set, <set>.json naming each parameter and its shape, and
// <set>.bin, the values as little-endian float32 one after another), then export_models.py run
// on them in a child process by the project's Python. No Python in this process. Internal to
// model_zoo.cc. Thread-compatible.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/pytorch/torchscript_writer.h"

namespace sonic::demo::models {

// Writes `module`'s parameters (DrawParameters) as `directory`/`set`.json and .bin. INTERNAL when
// a file cannot be written.
absl::Status WriteWeights(const backends::pytorch::TorchScriptModule& module,
                          const std::filesystem::path& directory, const std::string& set);

struct ExportRequest {
  // Empty: bin/python of DefaultPythonEnvironment (backends/python_host/python_environment.h):
  // SONIC_PYTHON_HOME's, else inside the build folder the build's .venv's; none when installed.
  std::filesystem::path python;
  // Empty: inside the build folder the source tree's export_models.py, else the installed one
  // (<prefix>/share/sonic/, <prefix>/lib holding this code's library).
  std::filesystem::path exporter;
  std::filesystem::path weights;     // WriteWeights's folder (also holds the log and the result)
  std::filesystem::path out;         // the model repository
  std::vector<std::string> formats;  // "onnx", "tensorflow"
};

struct ExportResult {
  std::map<std::string, std::vector<std::string>> written;  // format -> model names
  std::map<std::string, std::string> skipped;               // format -> why
};

// Runs the exporter and reads what it wrote. When the interpreter or the script is missing every
// format is skipped, with the path, where it came from and how to fix it. INTERNAL when the
// exporter fails (its exit status and the end of its output).
absl::StatusOr<ExportResult> RunExporter(const ExportRequest& request);

}  // namespace sonic::demo::models
