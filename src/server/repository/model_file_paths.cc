#include "server/repository/model_file_paths.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

namespace fs = std::filesystem;

// Symlinks followed before giving up, as the kernel's limit for a path (ELOOP).
constexpr int kMaxSymlinks = 40;

// `relative` under `base` (canonical) with the symlinks that exist resolved, as realpath() does,
// except that a missing component (or a dangling link's target) is taken as it is written.
// Nothing when there are too many links or one cannot be read.
std::optional<fs::path> Resolve(const fs::path& base, const fs::path& relative) {
  std::deque<fs::path> pending(relative.begin(), relative.end());
  fs::path current = base;
  int links = 0;
  while (!pending.empty()) {
    const fs::path part = std::move(pending.front());
    pending.pop_front();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      current = current.parent_path();
      continue;
    }
    fs::path next = current / part;
    std::error_code error;
    if (!fs::is_symlink(fs::symlink_status(next, error)) || error) {
      current = std::move(next);
      continue;
    }
    const fs::path target = fs::read_symlink(next, error);
    if (error || ++links > kMaxSymlinks) return std::nullopt;
    if (target.is_absolute()) current = target.root_path();
    const fs::path rest = target.relative_path();
    pending.insert(pending.begin(), rest.begin(), rest.end());
  }
  return current;
}

bool IsWithin(const fs::path& directory, const fs::path& path) {
  return std::mismatch(directory.begin(), directory.end(), path.begin(), path.end()).first ==
         directory.end();
}

}  // namespace

absl::Status CheckPathInside(const fs::path& directory, const std::string& name,
                             std::string_view what, std::string_view where) {
  auto outside = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(what), " '", Quoted(name), "' must be a relative path inside ",
        std::string(where), " (symlinks resolved); model files elsewhere are not served"));
  };
  if (name.find('\0') != std::string::npos) return outside();
  const fs::path relative = fs::path(name).lexically_normal();
  // Refused before the disk is looked at: the answer cannot depend on what exists there.
  if (relative.empty() || relative.has_root_path() || *relative.begin() == "..") return outside();
  std::error_code error;
  const fs::path base = fs::canonical(directory, error);
  if (error) return outside();
  // The name as written, not normalized: "link/.." is the link's target's parent, as the
  // kernel resolves it when the backend opens the file.
  const std::optional<fs::path> resolved = Resolve(base, fs::path(name));
  if (!resolved || !IsWithin(base, *resolved)) return outside();
  return absl::OkStatus();
}

absl::Status CheckModelFilesInside(const inference::ModelConfig& config,
                                   const fs::path& version_path, std::string_view context) {
  auto check = [&](const fs::path& directory, const std::string& name, std::string_view what,
                   std::string_view where) -> absl::Status {
    if (name.empty()) return absl::OkStatus();
    absl::Status inside = CheckPathInside(directory, name, what, where);
    if (inside.ok()) return inside;
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(context), ": ", std::string(inside.message())));
  };
  SONIC_RETURN_IF_ERROR(check(version_path, config.default_model_filename(),
                              "default_model_filename", "the version directory"));
  for (const auto& [capability, name] : config.cc_model_filenames()) {
    SONIC_RETURN_IF_ERROR(check(version_path, name,
                                absl::StrCat("cc_model_filenames['", Quoted(capability), "']"),
                                "the version directory"));
  }
  for (const inference::ModelOutput& output : config.output()) {
    SONIC_RETURN_IF_ERROR(check(version_path.parent_path(), output.label_filename(),
                                absl::StrCat("label_filename of output '", output.name(), "'"),
                                "the model directory"));
  }
  return absl::OkStatus();
}

}  // namespace sonic::server
