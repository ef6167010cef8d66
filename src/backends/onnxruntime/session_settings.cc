#include "backends/onnxruntime/session_settings.h"

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/common/model_config_util.h"
#include "sonic/common/status.h"

namespace sonic::backends::onnxruntime {

absl::StatusOr<SessionSettings> ReadSessionSettings(const inference::ModelConfig& config) {
  SessionSettings settings;
  SONIC_ASSIGN_OR_RETURN(int64_t intra,
                         GetIntParameter(config, "intra_op_thread_count", 0, 0, 4096));
  SONIC_ASSIGN_OR_RETURN(int64_t inter,
                         GetIntParameter(config, "inter_op_thread_count", 0, 0, 4096));
  SONIC_ASSIGN_OR_RETURN(int64_t mode, GetIntParameter(config, "execution_mode", 0, 0, 1));
  settings.intra_op_threads = static_cast<int>(intra);
  settings.inter_op_threads = static_cast<int>(inter);
  settings.parallel_execution = mode == 1;
  if (config.optimization().has_graph()) {
    switch (config.optimization().graph().level()) {
      case -1:
        settings.graph_optimization = GraphOptimization::kEnableBasic;
        break;
      case 1:
        settings.graph_optimization = GraphOptimization::kEnableExtended;
        break;
      case 2:
        settings.graph_optimization = GraphOptimization::kDisableAll;
        break;
      default:
        break;
    }
  }
  return settings;
}

std::string_view GraphOptimizationName(GraphOptimization level) {
  switch (level) {
    case GraphOptimization::kEnableBasic:
      return "ORT_ENABLE_BASIC";
    case GraphOptimization::kEnableExtended:
      return "ORT_ENABLE_EXTENDED";
    case GraphOptimization::kDisableAll:
      return "ORT_DISABLE_ALL";
    case GraphOptimization::kEnableAll:
      break;
  }
  return "ORT_ENABLE_ALL";
}

std::optional<DataType> DataTypeFromOrtType(std::string_view ort_type) {
  static constexpr std::pair<std::string_view, DataType> kTypes[] = {
      {"tensor(bool)", DataType::kBool},     {"tensor(uint8)", DataType::kUint8},
      {"tensor(uint16)", DataType::kUint16}, {"tensor(uint32)", DataType::kUint32},
      {"tensor(uint64)", DataType::kUint64}, {"tensor(int8)", DataType::kInt8},
      {"tensor(int16)", DataType::kInt16},   {"tensor(int32)", DataType::kInt32},
      {"tensor(int64)", DataType::kInt64},   {"tensor(float16)", DataType::kFp16},
      {"tensor(float)", DataType::kFp32},    {"tensor(double)", DataType::kFp64},
      {"tensor(string)", DataType::kBytes},  {"tensor(bfloat16)", DataType::kBf16},
  };
  for (const auto& [name, type] : kTypes) {
    if (name == ort_type) return type;
  }
  return std::nullopt;
}

}  // namespace sonic::backends::onnxruntime
