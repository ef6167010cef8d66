// A ModelInferRequest as ParseInferRequest reads it: borrowed views of its fields, made either
// from a parsed message (the stream and HTTP paths) or straight from the request's protobuf wire
// bytes (the unary gRPC path), which saves protobuf's parse and its copy of every input. Both
// give the parser the same view of the same request, so it checks one thing whichever way the
// request came. Thread-safe: plain data and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "inference/grpc_service.pb.h"

namespace sonic::server {

// An InferParameter's value: its oneof case and the value of that case.
struct InferParameterValue {
  inference::InferParameter::ParameterChoiceCase kind =
      inference::InferParameter::PARAMETER_CHOICE_NOT_SET;
  bool bool_param = false;
  int64_t int64_param = 0;
  uint64_t uint64_param = 0;
  double double_param = 0;
  absl::string_view string_param;  // borrowed
};

InferParameterValue ValueOf(const inference::InferParameter& parameter);

// Every view borrows the message or the wire bytes it was made from, which must outlive it (and
// the InferenceRequest whose input data point into them).
struct InferRequestView {
  struct Parameter {
    absl::string_view key;
    InferParameterValue value;
  };
  struct Input {
    absl::string_view name;
    absl::string_view datatype;
    std::span<const int64_t> shape;
    // The message's tensor, for its typed contents and parameters; null in a view decoded from
    // the wire, whose inputs have neither (DecodeInferRequest leaves such requests to protobuf).
    const inference::ModelInferRequest::InferInputTensor* tensor = nullptr;
  };
  struct Output {
    absl::string_view name;
    // As Input::tensor: null from the wire, whose outputs have no parameters.
    const inference::ModelInferRequest::InferRequestedOutputTensor* tensor = nullptr;
  };

  absl::string_view model_name;
  absl::string_view model_version;
  absl::string_view id;
  // One per key (the last one sent wins, as in protobuf's map), in no particular order.
  absl::InlinedVector<Parameter, 4> parameters;
  absl::InlinedVector<Input, 4> inputs;
  absl::InlinedVector<Output, 4> outputs;
  absl::InlinedVector<std::span<const std::byte>, 4> raw_input_contents;
  // Storage of the shapes decoded from the wire (a message's are viewed in place).
  absl::InlinedVector<int64_t, 16> dims;
};

// `message` as a view; `view` is overwritten.
void ViewMessage(const inference::ModelInferRequest& message, InferRequestView& view);

// Decodes the protobuf wire form of a ModelInferRequest into `view` (which is overwritten) as
// parsing it into a message and viewing that would: names, ids and raw_input_contents are views
// into `wire`, unknown fields are skipped, a field sent twice keeps its last value, repeated ones
// accumulate. Returns false, `view` then to be discarded, for bytes it leaves to protobuf: typed
// contents or parameters of a tensor, a string that is not ASCII (protobuf checks UTF-8), a
// known field with an unexpected wire type, groups, and anything malformed; the caller then
// parses them with protobuf, which accepts or refuses them as it would anyway. Never reads
// outside `wire`.
bool DecodeInferRequest(std::span<const std::byte> wire, InferRequestView& view);

}  // namespace sonic::server
