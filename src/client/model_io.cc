#include "model_io.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "sonic/client/client_error.h"

namespace sonic::client::internal {
namespace {

absl::Status ModelError(std::string_view context, std::string_view what) {
  return MakeClientError(absl::StatusCode::kFailedPrecondition, ErrorCategory::kModelError,
                         absl::StrCat(std::string(context), ": ", std::string(what)));
}

absl::StatusOr<TensorInfo> DescribeTensor(
    const inference::ModelMetadataResponse::TensorMetadata& tensor, bool batched,
    std::string_view context) {
  TensorInfo info;
  info.name = tensor.name();
  std::optional<DataType> type = DataTypeFromWireName(tensor.datatype());
  if (!type.has_value()) {
    return ModelError(context, absl::StrCat("tensor '", tensor.name(), "' has unknown datatype '",
                                            tensor.datatype(), "'"));
  }
  info.type = *type;
  info.batched = batched;
  info.dims.assign(tensor.shape().begin(), tensor.shape().end());
  if (batched) {
    if (info.dims.empty() || info.dims[0] != kVariableDim) {
      return ModelError(
          context, absl::StrCat("tensor '", tensor.name(), "' has shape ", ShapeToString(info.dims),
                                " without the batch dimension"));
    }
    info.dims.erase(info.dims.begin());
  }
  return info;
}

std::string Dims(const google::protobuf::RepeatedField<int64_t>& dims) {
  return ShapeToString(Shape(dims.begin(), dims.end()));
}

// The first difference between two lists of config tensors (ModelInput or ModelOutput), or "".
template <typename Tensor>
std::string CompareTensors(std::string_view kind,
                           const google::protobuf::RepeatedPtrField<Tensor>& local,
                           const google::protobuf::RepeatedPtrField<Tensor>& server) {
  if (local.size() != server.size()) {
    return absl::StrCat(local.size(), " ", std::string(kind), "s locally, ", server.size(),
                        " on the server");
  }
  for (const Tensor& mine : local) {
    const Tensor* theirs = nullptr;
    for (const Tensor& candidate : server) {
      if (candidate.name() == mine.name()) theirs = &candidate;
    }
    const std::string what = absl::StrCat(std::string(kind), " '", mine.name(), "'");
    if (theirs == nullptr) return absl::StrCat(what, " is not on the server");
    if (mine.data_type() != theirs->data_type()) {
      return absl::StrCat(what, " has datatype ", inference::DataType_Name(mine.data_type()),
                          " locally, ", inference::DataType_Name(theirs->data_type()),
                          " on the server");
    }
    if (Dims(mine.dims()) != Dims(theirs->dims())) {
      return absl::StrCat(what, " has dims ", Dims(mine.dims()), " locally, ", Dims(theirs->dims()),
                          " on the server");
    }
    if constexpr (std::is_same_v<Tensor, inference::ModelInput>) {
      if (mine.allow_ragged_batch() != theirs->allow_ragged_batch()) {
        return absl::StrCat(what, " has allow_ragged_batch ", mine.allow_ragged_batch(),
                            " locally, ", theirs->allow_ragged_batch(), " on the server");
      }
    }
  }
  return "";
}

// The checksum agent's entries of `config` ("MD5:1/model.pt" -> digest) for files of `version`
// (its folder, or the model's top level) or of every version when `version` is empty.
std::map<std::string, std::string> Checksums(const inference::ModelConfig& config,
                                             std::string_view version) {
  std::map<std::string, std::string> checksums;
  for (const auto& agent : config.model_repository_agents().agents()) {
    if (agent.name() != "checksum") continue;
    for (const auto& [key, digest] : agent.parameters()) {
      const size_t colon = key.find(':');
      const std::string file = colon == std::string::npos ? key : key.substr(colon + 1);
      const size_t slash = file.find('/');
      if (!version.empty() && slash != std::string::npos && file.substr(0, slash) != version) {
        continue;
      }
      checksums[key] = digest;
    }
  }
  return checksums;
}

std::string CompareChecksums(const inference::ModelConfig& local,
                             const inference::ModelConfig& server, std::string_view version) {
  const std::map<std::string, std::string> mine = Checksums(local, version);
  const std::map<std::string, std::string> theirs = Checksums(server, version);
  for (const auto& [key, digest] : mine) {
    auto it = theirs.find(key);
    if (it == theirs.end()) return absl::StrCat("checksum ", key, " is not on the server");
    if (it->second != digest) {
      return absl::StrCat("checksum ", key, " is ", digest, " locally, ", it->second,
                          " on the server");
    }
  }
  for (const auto& [key, digest] : theirs) {
    if (!mine.count(key)) return absl::StrCat("checksum ", key, " is only on the server");
  }
  return "";
}

}  // namespace

absl::StatusOr<ModelIo> DescribeModel(const inference::ModelMetadataResponse& metadata,
                                      const inference::ModelConfig& config,
                                      const std::vector<std::string>& requested_outputs,
                                      std::string_view context) {
  ModelIo io;
  io.max_batch_size = config.max_batch_size();
  const bool batched = io.max_batch_size > 0;
  for (const auto& tensor : metadata.inputs()) {
    SONIC_ASSIGN_OR_RETURN(TensorInfo info, DescribeTensor(tensor, batched, context));
    for (const inference::ModelInput& input : config.input()) {
      if (input.name() != info.name) continue;
      info.allow_ragged_batch = input.allow_ragged_batch();
      info.optional = input.optional();
    }
    io.inputs.push_back(std::move(info));
  }
  std::vector<std::string> known;
  for (const auto& tensor : metadata.outputs()) {
    known.push_back(tensor.name());
    const bool wanted =
        requested_outputs.empty() || std::find(requested_outputs.begin(), requested_outputs.end(),
                                               tensor.name()) != requested_outputs.end();
    if (!wanted) continue;
    SONIC_ASSIGN_OR_RETURN(TensorInfo info, DescribeTensor(tensor, batched, context));
    io.outputs.push_back(std::move(info));
  }
  for (const std::string& name : requested_outputs) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return MakeClientError(absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
                             absl::StrCat(std::string(context), ": requested output '", name,
                                          "' is not an output of the model (outputs: ",
                                          absl::StrJoin(known, ", "), ")"));
    }
  }
  return io;
}

absl::StatusOr<inference::ModelConfig> ReadLocalConfig(const std::string& path,
                                                       std::string_view context) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  if (!file) {
    return MakeClientError(
        absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
        absl::StrCat(std::string(context), ": cannot read local config '", path, "'"));
  }
  inference::ModelConfig local;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &local)) {
    return MakeClientError(absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
                           absl::StrCat(std::string(context), ": cannot parse local config '", path,
                                        "' as a model configuration"));
  }
  return local;
}

std::string ModelVersionDifference(const inference::ModelConfig& local,
                                   const inference::ModelConfig& server, std::string_view version) {
  if (local.max_batch_size() != server.max_batch_size()) {
    return absl::StrCat("max_batch_size is ", local.max_batch_size(), " locally, ",
                        server.max_batch_size(), " on the server");
  }
  std::string difference = CompareTensors("input", local.input(), server.input());
  if (difference.empty()) difference = CompareTensors("output", local.output(), server.output());
  if (difference.empty()) difference = CompareChecksums(local, server, version);
  return difference;
}

absl::Status CheckLocalConfig(const std::string& path, const inference::ModelConfig& server,
                              std::string_view version, std::string_view context) {
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig local, ReadLocalConfig(path, context));
  const std::string difference = ModelVersionDifference(local, server, version);
  if (difference.empty()) return absl::OkStatus();
  return ModelError(context, absl::StrCat("model version mismatch: the local config '", path,
                                          "' does not match the server's: ", difference));
}

}  // namespace sonic::client::internal
