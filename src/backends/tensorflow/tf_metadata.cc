#include "backends/tensorflow/tf_metadata.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/unknown_field_set.h>

#include <climits>
#include <utility>

#include "absl/strings/numbers.h"

namespace sonic::backends::tensorflow {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// Field numbers of tensorflow/core/protobuf/meta_graph.proto and config.proto.
constexpr int kMetaGraphSignatureDef = 5;  // map<string, SignatureDef>
constexpr int kMapKey = 1;
constexpr int kMapValue = 2;
constexpr int kSignatureInputs = 1;   // map<string, TensorInfo>
constexpr int kSignatureOutputs = 2;  // map<string, TensorInfo>
constexpr int kTensorInfoName = 1;
constexpr int kConfigIntraOpThreads = 2;
constexpr int kConfigInterOpThreads = 5;
constexpr int kConfigAllowSoftPlacement = 7;
constexpr int kConfigUsePerSessionThreads = 9;

bool Parse(std::string_view bytes, UnknownFieldSet* fields) {
  return bytes.size() <= static_cast<size_t>(INT_MAX) &&
         fields->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// The last string (length-delimited) field `number` of `fields`; empty when absent.
std::string StringField(const UnknownFieldSet& fields, int number) {
  std::string value;
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& field = fields.field(i);
    if (field.number() == number && field.type() == UnknownField::TYPE_LENGTH_DELIMITED) {
      value = field.length_delimited();
    }
  }
  return value;
}

// Calls fn(key, value bytes) for each entry of map field `number`. False on a malformed entry.
template <typename Fn>
bool ForEachMapEntry(const UnknownFieldSet& fields, int number, Fn&& fn) {
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& field = fields.field(i);
    if (field.number() != number || field.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    UnknownFieldSet entry;
    if (!Parse(field.length_delimited(), &entry)) return false;
    if (!fn(StringField(entry, kMapKey), StringField(entry, kMapValue))) return false;
  }
  return true;
}

// Fills `tensors` from a map<string, TensorInfo>; false on malformed bytes.
bool ReadTensorMap(const UnknownFieldSet& signature, int number,
                   std::map<std::string, std::string>* tensors) {
  return ForEachMapEntry(signature, number, [&](const std::string& key, const std::string& value) {
    UnknownFieldSet info;
    if (!Parse(value, &info)) return false;
    std::string name = StringField(info, kTensorInfoName);
    if (!name.empty()) (*tensors)[key] = std::move(name);
    return true;
  });
}

void AppendVarintField(google::protobuf::io::CodedOutputStream* out, int number, uint64_t value) {
  out->WriteTag(static_cast<uint32_t>(number) << 3);  // wire type 0: varint
  out->WriteVarint64(value);
}

}  // namespace

TensorName ParseTensorName(std::string_view name) {
  const size_t colon = name.rfind(':');
  int index = 0;
  if (colon != std::string_view::npos && colon + 1 < name.size() &&
      name.find_first_not_of("0123456789", colon + 1) == std::string_view::npos &&
      absl::SimpleAtoi(std::string(name.substr(colon + 1)), &index)) {
    return {std::string(name.substr(0, colon)), index};
  }
  return {std::string(name), 0};
}

absl::StatusOr<std::map<std::string, Signature>> ParseSignatures(std::string_view meta_graph_def) {
  UnknownFieldSet meta_graph;
  std::map<std::string, Signature> signatures;
  const bool parsed =
      Parse(meta_graph_def, &meta_graph) &&
      ForEachMapEntry(meta_graph, kMetaGraphSignatureDef,
                      [&](const std::string& key, const std::string& value) {
                        UnknownFieldSet fields;
                        Signature& signature = signatures[key];
                        return Parse(value, &fields) &&
                               ReadTensorMap(fields, kSignatureInputs, &signature.inputs) &&
                               ReadTensorMap(fields, kSignatureOutputs, &signature.outputs);
                      });
  if (!parsed) {
    return absl::InvalidArgumentError("the SavedModel's MetaGraphDef cannot be parsed");
  }
  return signatures;
}

std::string SerializeSessionConfig(const SessionSettings& settings) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    if (settings.intra_op_threads > 0) {
      AppendVarintField(&out, kConfigIntraOpThreads, settings.intra_op_threads);
    }
    if (settings.inter_op_threads > 0) {
      AppendVarintField(&out, kConfigInterOpThreads, settings.inter_op_threads);
    }
    if (settings.allow_soft_placement) AppendVarintField(&out, kConfigAllowSoftPlacement, 1);
    if (settings.per_session_threads) AppendVarintField(&out, kConfigUsePerSessionThreads, 1);
  }
  return bytes;
}

}  // namespace sonic::backends::tensorflow
