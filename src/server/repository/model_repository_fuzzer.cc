// Fuzz target: the model repository scanner and the model files a load request may send, on
// trees the input describes. The input is a sequence of decisions (FuzzInput): up to 16 entries
// made under a fresh repository root: directories, files (some content), symlinks (inside, out
// of the root, to /dev/zero, dangling, to themselves) and FIFOs, at paths of up to three names
// drawn from a set that mixes model-like names with hostile ones; then the request-sent files of
// Triton's `file:<version>/<path>` load parameters. Then every read the server does: ListModels,
// ModelDirectory (of every model and of a fuzzed name), ListVersions, Fingerprint,
// LoadModelConfig and CheckModelFilesInside, and ModelFilesDirectory::Create.
//
// Beyond not crashing or hanging (a FIFO config.pbtxt must not block the scanner): every
// directory ModelDirectory returns is inside a root, and ModelFilesDirectory writes nothing
// outside its own directory.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "inference/model_config.pb.h"
#include "server/repository/model_config_loader.h"
#include "server/repository/model_file_paths.h"
#include "server/repository/model_files_directory.h"
#include "server/repository/model_repository.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace fs = std::filesystem;
using sonic::fuzz::FuzzInput;

// Names for creating entries: never "..", "." or "/" (creation must stay under the root).
constexpr const char* kNames[] = {"m",     "model", "1",     "2",         "01",       "0",
                                  ".hidden", "config.pbtxt", "model.pt", "labels.txt",
                                  "a b",   "9223372036854775808", "-1", "x"};
// Targets for symlinks: inside, outside, special files, dangling, and the link itself. Not "/":
// a model linked there is a walk of the whole disk at each fingerprint, the administrator's
// doing, and a run of minutes here.
constexpr const char* kLinkTargets[] = {"..", "../..", "/etc/passwd", "/dev/zero",
                                        "/nonexistent", "1", "config.pbtxt", "m/1", "self"};
// Paths a load request may name, hostile ones among them.
constexpr const char* kRequestPaths[] = {"1/model.pt", "1/../../escape", "/abs/path", "0/model.pt",
                                         "1/",         "1/a/b/c",        "x/model.pt", "2/.."};
constexpr const char* kConfigs[] = {
    "",
    "name: \"m\" backend: \"identity\" max_batch_size: 1 input [ { name: \"i\" data_type: "
    "TYPE_FP32 dims: [ 1 ] } ] output [ { name: \"o\" data_type: TYPE_FP32 dims: [ 1 ] "
    "label_filename: \"../../labels.txt\" } ] default_model_filename: \"../../../etc/passwd\"",
    "max_batch_size: -5",
    "name: \"other\""};

const fs::path& Root() {
  static const fs::path* root = [] {
    auto* path = new fs::path(fs::temp_directory_path() /
                              ("sonic_repository_fuzz_" + std::to_string(getpid())));
    return path;
  }();
  return *root;
}

fs::path EntryPath(FuzzInput& input) {
  fs::path path;
  const size_t depth = 1 + input.Below(3);
  for (size_t i = 0; i < depth; ++i) path /= kNames[input.Below(std::size(kNames))];
  return path;
}

void MakeTree(FuzzInput& input, const fs::path& repository) {
  std::error_code ignored;
  const size_t entries = input.Below(17);
  for (size_t i = 0; i < entries; ++i) {
    const fs::path path = repository / EntryPath(input);
    fs::create_directories(path.parent_path(), ignored);
    const size_t kind = input.Below(5);
    // Each entry is made where nothing is yet: writing a file at an earlier FIFO's path would
    // wait for a reader forever.
    if (fs::exists(fs::symlink_status(path, ignored))) continue;
    switch (kind) {
      case 0:
        fs::create_directories(path, ignored);
        break;
      case 1: {
        std::ofstream file(path, std::ios::binary);
        file << (path.filename() == "config.pbtxt" ? kConfigs[input.Below(std::size(kConfigs))]
                                                  : input.String(32));
        break;
      }
      case 2: {
        const std::string target = kLinkTargets[input.Below(std::size(kLinkTargets))];
        fs::create_symlink(target == "self" ? path.filename() : fs::path(target), path, ignored);
        break;
      }
      case 3:
        mkfifo(path.c_str(), 0600);
        break;
      default:
        fs::create_directory_symlink(repository.parent_path(), path, ignored);
        break;
    }
  }
}

bool Inside(const fs::path& path, const fs::path& directory) {
  const fs::path relative = path.lexically_normal().lexically_relative(directory);
  return !relative.empty() && *relative.begin() != "..";
}

void ScanRepository(FuzzInput& input, const fs::path& repository) {
  auto created = sonic::server::ModelRepository::Create({repository});
  if (!created.ok()) return;
  const sonic::server::ModelRepository& scanner = **created;
  std::vector<std::string> names = scanner.ListModels();
  names.push_back(input.String(16));
  for (const std::string& name : names) {
    auto directory = scanner.ModelDirectory(name);
    (void)scanner.Fingerprint(name);
    if (!directory.ok()) continue;
    if (!Inside(*directory, repository)) std::abort();
    for (int64_t version : sonic::server::ModelRepository::ListVersions(*directory)) {
      if (version <= 0) std::abort();
    }
    auto config = sonic::server::LoadModelConfig(*directory, sonic::server::kSupportedBackends,
                                                 /*max_config_bytes=*/4096);
    if (config.ok()) {
      (void)sonic::server::CheckModelFilesInside(*config, *directory / "1", "fuzzed");
    }
  }
}

void SendModelFiles(FuzzInput& input) {
  std::map<std::string, std::string> files;
  const size_t count = input.Below(4);
  for (size_t i = 0; i < count; ++i) {
    files[input.Bool() ? kRequestPaths[input.Below(std::size(kRequestPaths))] : input.String(24)] =
        input.String(16);
  }
  auto directory = sonic::server::ModelFilesDirectory::Create("m", files);
  if (!directory.ok()) return;
  const fs::path model_path = (*directory)->path();
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(model_path, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!Inside(it->path(), model_path)) std::abort();
    if (it->is_symlink()) std::abort();  // only files and directories are written
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const fs::path repository = Root() / "repository";
  std::error_code ignored;
  fs::remove_all(Root(), ignored);
  fs::create_directories(repository, ignored);
  MakeTree(input, repository);
  ScanRepository(input, repository);
  SendModelFiles(input);
  fs::remove_all(Root(), ignored);
  return 0;
}
