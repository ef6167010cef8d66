#include "input_data_file.h"

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sonic/common/status.h"

namespace sonic::tools {
namespace {

using Json = nlohmann::json;

// Appends the leaves of `value` (arrays flattened) to `leaves`.
void Flatten(const Json& value, std::vector<const Json*>& leaves) {
  if (value.is_array()) {
    for (const Json& element : value) Flatten(element, leaves);
  } else {
    leaves.push_back(&value);
  }
}

// One batch entry's raw contents from the leaves, in `datatype`.
absl::StatusOr<std::string> EncodeLeaves(const std::vector<const Json*>& leaves,
                                         const std::string& datatype) {
  if (datatype == "BYTES") {
    std::vector<std::string> strings;
    for (const Json* leaf : leaves) {
      if (!leaf->is_string()) return absl::InvalidArgumentError("BYTES values must be strings");
      strings.push_back(leaf->get<std::string>());
    }
    return EncodeStrings(strings);
  }
  std::vector<double> numbers;
  for (const Json* leaf : leaves) {
    if (leaf->is_boolean()) {
      numbers.push_back(leaf->get<bool>() ? 1.0 : 0.0);
    } else if (leaf->is_number()) {
      numbers.push_back(leaf->get<double>());
    } else {
      return absl::InvalidArgumentError(absl::StrCat(datatype, " values must be numbers"));
    }
  }
  return EncodeNumbers(datatype, numbers);
}

// The shape of one batch entry: the entry's "shape" when given, else the resolved model shape
// without the batch dimension.
absl::StatusOr<std::vector<int64_t>> EntryShape(const Json& value, const TensorMetadata& input,
                                                const ModelInterface& model,
                                                const RequestSpec& spec) {
  if (value.is_object() && value.contains("shape")) {
    std::vector<int64_t> shape;
    for (const Json& dim : value["shape"]) {
      if (!dim.is_number_integer() || dim.get<int64_t>() < 0) {
        return absl::InvalidArgumentError("\"shape\" must list non-negative integers");
      }
      shape.push_back(dim.get<int64_t>());
    }
    return shape;
  }
  SONIC_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ResolveInputShape(input, model, spec));
  if (IsBatched(input, model)) shape.erase(shape.begin());
  return shape;
}

absl::Status AddInput(const Json& value, const TensorMetadata& input, const ModelInterface& model,
                      const RequestSpec& spec, inference::ModelInferRequest& request) {
  const Json& content = value.is_object() ? value.value("content", Json()) : value;
  if (!content.is_array()) {
    return absl::InvalidArgumentError("expected an array or {\"content\": [...], \"shape\": [...]}");
  }
  std::vector<const Json*> leaves;
  Flatten(content, leaves);
  SONIC_ASSIGN_OR_RETURN(std::vector<int64_t> shape, EntryShape(value, input, model, spec));
  int64_t elements = 1;
  for (int64_t dim : shape) elements *= dim;
  if (elements != static_cast<int64_t>(leaves.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat(leaves.size(), " values for a shape of ", elements, " elements"));
  }
  SONIC_ASSIGN_OR_RETURN(std::string entry, EncodeLeaves(leaves, input.datatype()));
  const bool batched = IsBatched(input, model);
  const int64_t copies = batched ? std::max<int64_t>(spec.batch_size, 1) : 1;
  if (batched) shape.insert(shape.begin(), copies);
  auto* tensor = request.add_inputs();
  tensor->set_name(input.name());
  tensor->set_datatype(input.datatype());
  tensor->mutable_shape()->Add(shape.begin(), shape.end());
  std::string* contents = request.add_raw_input_contents();
  for (int64_t i = 0; i < copies; ++i) *contents += entry;
  return absl::OkStatus();
}

absl::StatusOr<inference::ModelInferRequest> MakeRequest(const Json& step, size_t index,
                                                         const ModelInterface& model,
                                                         const RequestSpec& spec) {
  inference::ModelInferRequest request;
  request.set_model_name(spec.model_name);
  request.set_model_version(spec.model_version);
  for (const TensorMetadata& input : model.metadata.inputs()) {
    const std::string where = absl::StrCat("data[", index, "] input '", input.name(), "'");
    if (!step.is_object() || !step.contains(input.name())) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": missing"));
    }
    absl::Status status = AddInput(step[input.name()], input, model, spec, request);
    if (!status.ok()) return Annotate(status, where);
  }
  return request;
}

}  // namespace

absl::StatusOr<std::vector<inference::ModelInferRequest>> MakeRequestsFromJson(
    std::string_view json, const ModelInterface& model, const RequestSpec& spec) {
  Json document = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  if (!document.is_object() || !document.contains("data") || !document["data"].is_array() ||
      document["data"].empty()) {
    return absl::InvalidArgumentError("expected {\"data\": [ {...}, ... ]} with at least one entry");
  }
  std::vector<inference::ModelInferRequest> requests;
  for (const Json& step : document["data"]) {
    SONIC_ASSIGN_OR_RETURN(inference::ModelInferRequest request,
                           MakeRequest(step, requests.size(), model, spec));
    requests.push_back(std::move(request));
  }
  return requests;
}

absl::StatusOr<std::vector<inference::ModelInferRequest>> ReadRequestsFromJsonFile(
    const std::filesystem::path& file, const ModelInterface& model, const RequestSpec& spec) {
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<inference::ModelInferRequest>> requests =
      MakeRequestsFromJson(text.str(), model, spec);
  if (!requests.ok()) return Annotate(requests.status(), file.string());
  return requests;
}

absl::StatusOr<std::vector<inference::ModelInferRequest>> MakeRequestsForInputData(
    const ModelInterface& model, const RequestSpec& spec, const std::string& input_data,
    uint64_t seed) {
  if (input_data == "zero" || input_data == "random") {
    std::mt19937_64 rng(seed);
    SONIC_ASSIGN_OR_RETURN(
        inference::ModelInferRequest request,
        MakeGeneratedRequest(model, spec,
                             input_data == "zero" ? InputData::kZero : InputData::kRandom, rng));
    return std::vector<inference::ModelInferRequest>{std::move(request)};
  }
  absl::StatusOr<std::vector<inference::ModelInferRequest>> requests =
      ReadRequestsFromJsonFile(input_data, model, spec);
  if (!requests.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--input-data: ", requests.status().message()));
  }
  return requests;
}

}  // namespace sonic::tools
