// What the tensorflow backend reads from and writes to TensorFlow without TensorFlow's C++ classes
// (they live inside TensorFlow's library, with its own protobuf): tensor names, a SavedModel's
// signatures (MetaGraphDef, read by field number with Debian's protobuf as unknown fields) and the
// session's ConfigProto (written by field number). Thread-safe: stateless functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sonic::backends::tensorflow {

// A graph tensor: output `index` of operation `operation`.
struct TensorName {
  std::string operation;
  int index = 0;
  bool operator==(const TensorName&) const = default;
};

// Splits "op:3" into {"op", 3}. A name without a ":<decimal>" suffix is an operation's output 0
// ("output/BiasAdd" -> {"output/BiasAdd", 0}), as TensorFlow reads feed and fetch names.
TensorName ParseTensorName(std::string_view name);

// One SignatureDef: its input and output keys, each with the graph tensor it names.
struct Signature {
  std::map<std::string, std::string> inputs;
  std::map<std::string, std::string> outputs;
};

// The signature_def map of a serialized MetaGraphDef (what TF_LoadSessionFromSavedModel returns),
// by signature key. Inputs or outputs without a plain tensor name (sparse or composite ones) are
// left out. INVALID_ARGUMENT when the bytes are not a protobuf message.
absl::StatusOr<std::map<std::string, Signature>> ParseSignatures(std::string_view meta_graph_def);

// Settings of a session's ConfigProto; 0 / false leave TensorFlow's defaults.
struct SessionSettings {
  int32_t intra_op_threads = 0;
  int32_t inter_op_threads = 0;
  bool per_session_threads = false;
  bool allow_soft_placement = false;
};

// The serialized tensorflow.ConfigProto holding `settings` (for TF_SetConfig).
std::string SerializeSessionConfig(const SessionSettings& settings);

}  // namespace sonic::backends::tensorflow
