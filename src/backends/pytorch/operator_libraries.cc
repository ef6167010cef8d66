#include "backends/pytorch/operator_libraries.h"

#include <dlfcn.h>

#include <cctype>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/common/model_config_util.h"
#include "server/repository/model_file_paths.h"
#include "sonic/common/status.h"

namespace sonic::backends::pytorch {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> SplitPaths(std::string_view list) {
  return absl::StrSplit(absl::string_view(list.data(), list.size()), ':', absl::SkipWhitespace());
}

// dlopen with the process-wide lock held, so dlerror's text is the one of this call. A file
// already open is not opened again (dlopen would only count it).
absl::Status Open(const fs::path& file, std::string_view context) {
  static std::mutex mutex;
  static std::set<fs::path>* opened = new std::set<fs::path>();  // never destroyed: never closed
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(file, error);
  const fs::path key = error ? file : canonical;
  std::lock_guard<std::mutex> lock(mutex);
  if (opened->count(key) > 0) return absl::OkStatus();
  if (::dlopen(file.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char* reason = ::dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(context), ": cannot load operator library ", file.string(), ": ",
                     reason == nullptr ? "unknown dlopen error" : reason));
  }
  opened->insert(key);
  return absl::OkStatus();
}

std::string BackendConfigValue(const SonicBackendModelSpec& spec, std::string_view key) {
  std::string value;
  for (uint32_t i = 0; i < spec.backend_config_count; ++i) {
    const char* name = spec.backend_config_keys[i];
    if (name != nullptr && key == name && spec.backend_config_values[i] != nullptr) {
      value = spec.backend_config_values[i];
    }
  }
  return value;
}

}  // namespace

absl::Status LoadOperatorLibraries(const SonicBackendModelSpec& spec,
                                   const inference::ModelConfig& config, std::string_view context) {
  for (const std::string& path :
       SplitPaths(BackendConfigValue(spec, kOperatorLibrariesBackendConfig))) {
    if (!fs::path(path).is_absolute()) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(context), ": --backend-config pytorch ", kOperatorLibrariesBackendConfig,
          " entry '", Quoted(path), "' is not an absolute path"));
    }
    SONIC_RETURN_IF_ERROR(Open(path, context));
  }
  const std::optional<std::string> listed = GetParameter(config, kOperatorLibrariesParameter);
  if (!listed.has_value()) return absl::OkStatus();
  const fs::path version_path(spec.version_path == nullptr ? "" : spec.version_path);
  for (const std::string& path : SplitPaths(*listed)) {
    absl::Status inside = server::CheckPathInside(
        version_path, path, absl::StrCat("parameter ", kOperatorLibrariesParameter, " entry"),
        "the version directory");
    if (!inside.ok()) return Annotate(inside, context);
    SONIC_RETURN_IF_ERROR(Open(version_path / path, context));
  }
  return absl::OkStatus();
}

std::optional<std::string> UnknownOperatorReason(std::string_view torch_message) {
  constexpr std::string_view kMarker = "Unknown builtin op: ";
  const size_t start = torch_message.find(kMarker);
  if (start == std::string_view::npos) return std::nullopt;
  std::string op;
  for (size_t i = start + kMarker.size(); i < torch_message.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(torch_message[i]);
    if (!std::isalnum(c) && c != '_' && c != ':' && c != '.') break;
    op.push_back(static_cast<char>(c));
  }
  while (!op.empty() && op.back() == '.') op.pop_back();  // the sentence's full stop
  if (op.empty()) return std::nullopt;
  return absl::StrCat("unknown TorchScript operator '", Quoted(op),
                      "': load the library that registers it with the model parameter ",
                      kOperatorLibrariesParameter, " or --backend-config=pytorch,",
                      kOperatorLibrariesBackendConfig, "=<absolute path>");
}

}  // namespace sonic::backends::pytorch
