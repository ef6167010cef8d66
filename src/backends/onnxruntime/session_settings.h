// How the onnxruntime backend reads Triton's ONNX Runtime settings from a model configuration,
// and ONNX Runtime's tensor type names. Free of Python and ONNX Runtime, so it is cheap to compile
// and test. Thread-safe: stateless functions.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "sonic/common/data_type.h"

namespace sonic::backends::onnxruntime {

// ONNX Runtime's GraphOptimizationLevel.
enum class GraphOptimization { kEnableAll, kEnableBasic, kEnableExtended, kDisableAll };

// The options each instance's InferenceSession is made with.
struct SessionSettings {
  int intra_op_threads = 0;  // 0: ONNX Runtime's default (one per physical core)
  int inter_op_threads = 0;  // 0: ONNX Runtime's default; used by parallel execution only
  bool parallel_execution = false;
  GraphOptimization graph_optimization = GraphOptimization::kEnableAll;
};

// Reads, as Triton's onnxruntime backend does:
//  - parameters intra_op_thread_count and inter_op_thread_count: integers >= 0 as strings;
//  - parameter execution_mode: "0" sequential (the default) or "1" parallel;
//  - optimization.graph.level: -1 basic, 1 basic and extended, 2 disabled, anything else (or no
//    optimization.graph) every optimization.
// INVALID_ARGUMENT naming the parameter when one is not such a value.
absl::StatusOr<SessionSettings> ReadSessionSettings(const inference::ModelConfig& config);

// The name of the GraphOptimizationLevel member in onnxruntime's Python API ("ORT_ENABLE_ALL").
std::string_view GraphOptimizationName(GraphOptimization level);

// The Triton type of an ONNX Runtime tensor type ("tensor(float)" -> FP32, "tensor(string)" ->
// BYTES); nullopt for a type Triton has none for (sequences, maps, complex, float8...).
std::optional<DataType> DataTypeFromOrtType(std::string_view ort_type);

}  // namespace sonic::backends::onnxruntime
