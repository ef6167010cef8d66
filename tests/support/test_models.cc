#include "test_models.h"

#include <fstream>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"
#include "torch_test_models.h"

namespace sonic::testing {
namespace {

absl::Status WriteFile(const std::filesystem::path& path, std::string_view contents) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", path.parent_path().string(), ": ", error.message()));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

// Writes <dir>/<name>/config.pbtxt and creates the version directory <dir>/<name>/1.
absl::Status WriteModel(const std::filesystem::path& dir, std::string_view name,
                        std::string_view config) {
  SONIC_RETURN_IF_ERROR(WriteFile(dir / name / "config.pbtxt", config));
  std::error_code error;
  std::filesystem::create_directories(dir / name / "1", error);
  if (error)
    return absl::InternalError(absl::StrCat("cannot create version 1 of ", std::string(name)));
  return absl::OkStatus();
}

// config.pbtxt texts (raw-string delimiter "config" so clang-format leaves them as written).
constexpr char kIdentityFp32[] = R"config(name: "identity_fp32"
backend: "identity"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
)config";

constexpr char kIdentityDelay[] = R"config(name: "identity_delay"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
parameters { key: "execute_delay_ms" value { string_value: "300" } }
)config";

constexpr char kBrokenModel[] = R"config(name: "broken_model"
backend: "pytorch"
max_batch_size: 0
input [ { name: "INPUT__0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 4 ] } ]
)config";

// The input list is never closed.
constexpr char kBadConfig[] = R"config(name: "bad_config"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] }
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
)config";

constexpr char kTorchMlp[] = R"config(name: "torch_mlp"
backend: "pytorch"
max_batch_size: 8
input [ { name: "INPUT__0" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 4 ] } ]
dynamic_batching { }
instance_group [ { kind: KIND_CPU count: 1 } ]
)config";

constexpr char kTorchTwoIo[] = R"config(name: "torch_two_io"
platform: "pytorch_libtorch"
max_batch_size: 4
input [
  { name: "a" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "b" data_type: TYPE_FP32 dims: [ -1 ] }
]
output [
  { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "OUTPUT__1" data_type: TYPE_FP32 dims: [ -1 ] }
]
)config";

constexpr char kTorchRaggedSum[] = R"config(name: "torch_ragged_sum"
backend: "pytorch"
max_batch_size: 16
input [ { name: "x" data_type: TYPE_FP32 dims: [ -1 ] allow_ragged_batch: true } ]
batch_input [
  {
    kind: BATCH_ACCUMULATED_ELEMENT_COUNT
    target_name: "offsets"
    data_type: TYPE_INT32
    source_input: "x"
  }
]
output [
  { name: "sum" data_type: TYPE_FP32 dims: [ 1 ] },
  { name: "max" data_type: TYPE_FP32 dims: [ 1 ] }
]
dynamic_batching { max_queue_delay_microseconds: 100000 }
instance_group [ { kind: KIND_CPU count: 1 } ]
)config";

std::string IdentityAllTypesConfig() {
  // Wire name and config enum name of every type.
  constexpr std::pair<const char*, const char*> kTypes[] = {
      {"BOOL", "TYPE_BOOL"},     {"UINT8", "TYPE_UINT8"},   {"UINT16", "TYPE_UINT16"},
      {"UINT32", "TYPE_UINT32"}, {"UINT64", "TYPE_UINT64"}, {"INT8", "TYPE_INT8"},
      {"INT16", "TYPE_INT16"},   {"INT32", "TYPE_INT32"},   {"INT64", "TYPE_INT64"},
      {"FP16", "TYPE_FP16"},     {"FP32", "TYPE_FP32"},     {"FP64", "TYPE_FP64"},
      {"BYTES", "TYPE_STRING"},  {"BF16", "TYPE_BF16"},
  };
  std::string inputs, outputs;
  for (const auto& [wire, config] : kTypes) {
    absl::StrAppend(&inputs, "  { name: \"INPUT_", wire, "\" data_type: ", config,
                    " dims: [ -1 ] },\n");
    absl::StrAppend(&outputs, "  { name: \"OUTPUT_", wire, "\" data_type: ", config,
                    " dims: [ -1 ] },\n");
  }
  inputs.resize(inputs.size() - 2);  // Drops the last ",\n".
  outputs.resize(outputs.size() - 2);
  return absl::StrCat("name: \"identity_all_types\"\nbackend: \"identity\"\nmax_batch_size: 0\n",
                      "input [\n", inputs, "\n]\noutput [\n", outputs, "\n]\n");
}

}  // namespace

absl::Status WriteTestRepository(const std::filesystem::path& dir) {
  SONIC_RETURN_IF_ERROR(WriteModel(dir, "identity_fp32", kIdentityFp32));
  SONIC_RETURN_IF_ERROR(WriteModel(dir, "identity_delay", kIdentityDelay));
  SONIC_RETURN_IF_ERROR(WriteModel(dir, "identity_all_types", IdentityAllTypesConfig()));
  SONIC_RETURN_IF_ERROR(WriteModel(dir, "broken_model", kBrokenModel));
  SONIC_RETURN_IF_ERROR(
      WriteFile(dir / "broken_model" / "1" / "model.pt", "this is not a TorchScript archive\n"));
  SONIC_RETURN_IF_ERROR(WriteModel(dir, "bad_config", kBadConfig));
  if (HaveTorchModels()) {
    SONIC_RETURN_IF_ERROR(WriteModel(dir, "torch_mlp", kTorchMlp));
    SONIC_RETURN_IF_ERROR(WriteModel(dir, "torch_two_io", kTorchTwoIo));
    SONIC_RETURN_IF_ERROR(WriteModel(dir, "torch_ragged_sum", kTorchRaggedSum));
    SONIC_RETURN_IF_ERROR(WriteTorchModelFiles(dir));
  }
  return absl::OkStatus();
}

}  // namespace sonic::testing
