#include "server/frontend/http_infer_codec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

using nlohmann::json;

constexpr char kBinaryDataSize[] = "binary_data_size";
constexpr char kBinaryData[] = "binary_data";
constexpr char kBinaryDataOutput[] = "binary_data_output";
constexpr char kSharedMemoryRegion[] = "shared_memory_region";

absl::Status Invalid(absl::string_view what, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", message));
}

absl::StatusOr<inference::InferParameter> ToParameter(const json& value, absl::string_view key) {
  inference::InferParameter parameter;
  if (value.is_boolean()) {
    parameter.set_bool_param(value.get<bool>());
  } else if (value.is_number_unsigned()) {
    const uint64_t number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      parameter.set_uint64_param(number);
    } else {
      parameter.set_int64_param(static_cast<int64_t>(number));
    }
  } else if (value.is_number_integer()) {
    parameter.set_int64_param(value.get<int64_t>());
  } else if (value.is_number_float()) {
    parameter.set_double_param(value.get<double>());
  } else if (value.is_string()) {
    parameter.set_string_param(value.get<std::string>());
  } else {
    return Invalid(absl::StrCat("parameter '", key, "'"),
                   "must be a bool, a number or a string");
  }
  return parameter;
}

// Copies `parameters` (a JSON object) into `out`, except the keys in `consumed`.
absl::Status CopyParameters(const json& parameters, absl::string_view owner,
                            google::protobuf::Map<std::string, inference::InferParameter>& out,
                            std::initializer_list<absl::string_view> consumed) {
  if (!parameters.is_object()) return Invalid(owner, "'parameters' must be an object");
  for (const auto& [key, value] : parameters.items()) {
    if (std::find(consumed.begin(), consumed.end(), key) != consumed.end()) continue;
    SONIC_ASSIGN_OR_RETURN(out[key], ToParameter(value, key));
  }
  return absl::OkStatus();
}

const json* Find(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

absl::StatusOr<std::string> StringField(const json& object, const char* key,
                                        absl::string_view owner) {
  const json* value = Find(object, key);
  if (value == nullptr || !value->is_string()) {
    return Invalid(owner, absl::StrCat("'", key, "' must be a string"));
  }
  return value->get<std::string>();
}

template <typename T>
void AppendRaw(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
absl::Status AppendInteger(const json& value, std::string& out) {
  if (value.is_number_unsigned()) {
    const uint64_t number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return absl::InvalidArgumentError(absl::StrCat(number, " is out of range"));
    }
    AppendRaw<T>(out, static_cast<T>(number));
  } else if (value.is_number_integer()) {
    const int64_t number = value.get<int64_t>();
    if (number < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        (number > 0 &&
         static_cast<uint64_t>(number) > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
      return absl::InvalidArgumentError(absl::StrCat(number, " is out of range"));
    }
    AppendRaw<T>(out, static_cast<T>(number));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("expected an integer, got ", value.dump()));
  }
  return absl::OkStatus();
}

// One JSON element in the raw wire layout of `type`.
absl::Status AppendElement(const json& value, DataType type, std::string& out) {
  switch (type) {
    case DataType::kBool:
      if (!value.is_boolean()) {
        return absl::InvalidArgumentError(absl::StrCat("expected a bool, got ", value.dump()));
      }
      out.push_back(value.get<bool>() ? 1 : 0);
      return absl::OkStatus();
    case DataType::kUint8: return AppendInteger<uint8_t>(value, out);
    case DataType::kUint16: return AppendInteger<uint16_t>(value, out);
    case DataType::kUint32: return AppendInteger<uint32_t>(value, out);
    case DataType::kUint64: return AppendInteger<uint64_t>(value, out);
    case DataType::kInt8: return AppendInteger<int8_t>(value, out);
    case DataType::kInt16: return AppendInteger<int16_t>(value, out);
    case DataType::kInt32: return AppendInteger<int32_t>(value, out);
    case DataType::kInt64: return AppendInteger<int64_t>(value, out);
    case DataType::kFp32:
    case DataType::kFp64:
      if (!value.is_number()) {
        return absl::InvalidArgumentError(absl::StrCat("expected a number, got ", value.dump()));
      }
      if (type == DataType::kFp32) {
        AppendRaw<float>(out, value.get<float>());
      } else {
        AppendRaw<double>(out, value.get<double>());
      }
      return absl::OkStatus();
    case DataType::kBytes: {
      if (!value.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat("expected a string, got ", value.dump()));
      }
      const std::string& text = value.get_ref<const std::string&>();
      AppendRaw<uint32_t>(out, static_cast<uint32_t>(text.size()));
      out.append(text);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "datatype ", std::string(WireName(type)), " cannot be sent as JSON data (send it as binary data)"));
  }
}

// Flattens nested arrays row-major; counts the elements.
absl::Status AppendData(const json& data, DataType type, std::string& out, int64_t& count) {
  if (data.is_array()) {
    for (const json& element : data) SONIC_RETURN_IF_ERROR(AppendData(element, type, out, count));
    return absl::OkStatus();
  }
  ++count;
  return AppendElement(data, type, out);
}

absl::StatusOr<Shape> ShapeField(const json& input, absl::string_view owner) {
  const json* shape = Find(input, "shape");
  if (shape == nullptr || !shape->is_array()) return Invalid(owner, "'shape' must be an array");
  Shape dims;
  for (const json& dim : *shape) {
    if (!dim.is_number_integer()) return Invalid(owner, "'shape' must hold integers");
    dims.push_back(dim.get<int64_t>());
  }
  return dims;
}

// Where the binary tensors of a request are and how far they have been read.
struct BinarySection {
  absl::string_view bytes;
  size_t used = 0;
};

absl::StatusOr<std::optional<uint64_t>> BinarySize(const json* parameters, absl::string_view owner) {
  if (parameters == nullptr || !parameters->is_object()) return std::nullopt;
  const json* size = Find(*parameters, kBinaryDataSize);
  if (size == nullptr) return std::nullopt;
  if (!size->is_number_integer() || size->get<int64_t>() < 0) {
    return Invalid(owner, "'binary_data_size' must be a non-negative integer");
  }
  return size->get<uint64_t>();
}

// The input's tensor: its raw bytes appended to raw_input_contents, unless it is in shared memory.
absl::Status ParseInputData(const json& input, const std::string& owner, DataType type,
                            const Shape& shape, BinarySection& binary,
                            inference::ModelInferRequest& message) {
  const json* parameters = Find(input, "parameters");
  const json* data = Find(input, "data");
  SONIC_ASSIGN_OR_RETURN(std::optional<uint64_t> binary_size, BinarySize(parameters, owner));
  const bool in_shm = parameters != nullptr && parameters->is_object() &&
                      parameters->contains(kSharedMemoryRegion);
  if (in_shm || binary_size) {
    if (data != nullptr) {
      return Invalid(owner, "'data' together with binary data or shared memory");
    }
    if (in_shm && binary_size) return Invalid(owner, "binary data together with shared memory");
    if (in_shm) return absl::OkStatus();
    if (*binary_size > binary.bytes.size() - binary.used) {
      return Invalid(owner, absl::StrCat("binary_data_size ", *binary_size, " overruns the ",
                                         binary.bytes.size() - binary.used,
                                         " bytes of binary data left in the request"));
    }
    message.add_raw_input_contents(std::string(binary.bytes.substr(binary.used, *binary_size)));
    binary.used += *binary_size;
    return absl::OkStatus();
  }
  if (data == nullptr) return Invalid(owner, "no 'data', binary data or shared memory");
  absl::StatusOr<int64_t> expected = ElementCount(shape);
  if (!expected.ok()) return Invalid(owner, expected.status().message());
  std::string* raw = message.add_raw_input_contents();
  int64_t count = 0;
  if (absl::Status status = AppendData(*data, type, *raw, count); !status.ok()) {
    return Invalid(owner, status.message());
  }
  if (count != *expected) {
    return Invalid(owner, absl::StrCat(count, " values in 'data' for a shape of ", *expected,
                                       " elements"));
  }
  return absl::OkStatus();
}

absl::Status ParseInput(const json& input, BinarySection& binary,
                        inference::ModelInferRequest& message) {
  if (!input.is_object()) return absl::InvalidArgumentError("each input must be an object");
  SONIC_ASSIGN_OR_RETURN(std::string name, StringField(input, "name", "input"));
  const std::string owner = absl::StrCat("input '", name, "'");
  SONIC_ASSIGN_OR_RETURN(std::string datatype, StringField(input, "datatype", owner));
  SONIC_ASSIGN_OR_RETURN(Shape shape, ShapeField(input, owner));
  std::optional<DataType> type = DataTypeFromWireName(datatype);
  if (!type) return Invalid(owner, absl::StrCat("unknown datatype '", datatype, "'"));
  auto* tensor = message.add_inputs();
  tensor->set_name(name);
  tensor->set_datatype(datatype);
  tensor->mutable_shape()->Add(shape.begin(), shape.end());
  if (const json* parameters = Find(input, "parameters")) {
    SONIC_RETURN_IF_ERROR(
        CopyParameters(*parameters, owner, *tensor->mutable_parameters(), {kBinaryDataSize}));
  }
  return ParseInputData(input, owner, *type, shape, binary, message);
}

absl::Status ParseOutput(const json& output, inference::ModelInferRequest& message,
                         HttpOutputFormat& format) {
  if (!output.is_object()) return absl::InvalidArgumentError("each output must be an object");
  SONIC_ASSIGN_OR_RETURN(std::string name, StringField(output, "name", "output"));
  const std::string owner = absl::StrCat("output '", name, "'");
  auto* tensor = message.add_outputs();
  tensor->set_name(name);
  HttpOutputFormat::Requested& requested = format.outputs.emplace_back();
  requested.name = name;
  const json* parameters = Find(output, "parameters");
  if (parameters == nullptr) return absl::OkStatus();
  SONIC_RETURN_IF_ERROR(
      CopyParameters(*parameters, owner, *tensor->mutable_parameters(), {kBinaryData}));
  if (const json* binary = Find(*parameters, kBinaryData)) {
    if (!binary->is_boolean()) return Invalid(owner, "'binary_data' must be a bool");
    requested.binary = binary->get<bool>();
  }
  requested.in_shared_memory = parameters->contains(kSharedMemoryRegion);
  return absl::OkStatus();
}

absl::Status ParseRequestParameters(const json& root, inference::ModelInferRequest& message,
                                    HttpOutputFormat& format) {
  const json* parameters = Find(root, "parameters");
  if (parameters == nullptr) return absl::OkStatus();
  SONIC_RETURN_IF_ERROR(
      CopyParameters(*parameters, "request", *message.mutable_parameters(), {kBinaryDataOutput}));
  if (const json* binary = Find(*parameters, kBinaryDataOutput)) {
    if (!binary->is_boolean()) {
      return absl::InvalidArgumentError("request: 'binary_data_output' must be a bool");
    }
    format.binary_by_default = binary->get<bool>();
  }
  return absl::OkStatus();
}

absl::Status ParseRoot(const json& root, BinarySection& binary,
                       inference::ModelInferRequest& message, HttpOutputFormat& format) {
  if (!root.is_object()) return absl::InvalidArgumentError("the request must be a JSON object");
  if (const json* id = Find(root, "id")) {
    if (!id->is_string()) return absl::InvalidArgumentError("request: 'id' must be a string");
    message.set_id(id->get<std::string>());
  }
  SONIC_RETURN_IF_ERROR(ParseRequestParameters(root, message, format));
  const json* inputs = Find(root, "inputs");
  if (inputs == nullptr || !inputs->is_array()) {
    return absl::InvalidArgumentError("request: 'inputs' must be an array");
  }
  for (const json& input : *inputs) SONIC_RETURN_IF_ERROR(ParseInput(input, binary, message));
  if (binary.used != binary.bytes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: ", binary.bytes.size() - binary.used,
                     " bytes of binary data left over after the inputs' binary_data_size"));
  }
  if (const json* outputs = Find(root, "outputs")) {
    if (!outputs->is_array()) return absl::InvalidArgumentError("request: 'outputs' must be an array");
    for (const json& output : *outputs) SONIC_RETURN_IF_ERROR(ParseOutput(output, message, format));
  }
  return absl::OkStatus();
}

template <typename T>
T ReadRaw(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

template <typename T>
json RawArray(const std::string& data) {
  json array = json::array();
  array.get_ref<json::array_t&>().reserve(data.size() / sizeof(T));
  for (size_t at = 0; at + sizeof(T) <= data.size(); at += sizeof(T)) {
    array.push_back(ReadRaw<T>(data.data() + at));
  }
  return array;
}

json BytesArray(const std::string& data) {
  json array = json::array();
  size_t at = 0;
  while (at + sizeof(uint32_t) <= data.size()) {
    const uint32_t length = ReadRaw<uint32_t>(data.data() + at);
    at += sizeof(uint32_t);
    const size_t take = std::min<size_t>(length, data.size() - at);
    array.push_back(data.substr(at, take));
    at += take;
  }
  return array;
}

// The flat JSON array of a raw tensor of a type JSON can carry.
json DataArray(DataType type, const std::string& data) {
  switch (type) {
    case DataType::kBool: {
      json array = json::array();
      for (char byte : data) array.push_back(byte != 0);
      return array;
    }
    case DataType::kUint8: return RawArray<uint8_t>(data);
    case DataType::kUint16: return RawArray<uint16_t>(data);
    case DataType::kUint32: return RawArray<uint32_t>(data);
    case DataType::kUint64: return RawArray<uint64_t>(data);
    case DataType::kInt8: return RawArray<int8_t>(data);
    case DataType::kInt16: return RawArray<int16_t>(data);
    case DataType::kInt32: return RawArray<int32_t>(data);
    case DataType::kInt64: return RawArray<int64_t>(data);
    case DataType::kFp32: return RawArray<float>(data);
    case DataType::kFp64: return RawArray<double>(data);
    case DataType::kBytes: return BytesArray(data);
    default: return json::array();
  }
}

const HttpOutputFormat::Requested* FindRequested(const HttpOutputFormat& format,
                                                 const std::string& name) {
  for (const auto& requested : format.outputs) {
    if (requested.name == name) return &requested;
  }
  return nullptr;
}

}  // namespace

absl::Status ParseHttpInferRequest(std::string_view body, std::optional<size_t> header_length,
                                   inference::ModelInferRequest& message,
                                   HttpOutputFormat& format) {
  const size_t json_length = header_length.value_or(body.size());
  if (json_length > body.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Inference-Header-Content-Length ", json_length,
                                                   " is past the body's ", body.size(), " bytes"));
  }
  json root = json::parse(body.substr(0, json_length), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return absl::InvalidArgumentError("the request body is not valid JSON");
  }
  BinarySection binary{absl::string_view(body.data() + json_length, body.size() - json_length), 0};
  return ParseRoot(root, binary, message, format);
}

HttpBody BuildHttpInferResponse(InferenceResponse&& response, const HttpOutputFormat& format) {
  json root = json::object();
  root["model_name"] = std::move(response.model_name);
  root["model_version"] = std::to_string(response.model_version);
  if (!response.id.empty()) root["id"] = std::move(response.id);
  json outputs = json::array();
  std::vector<std::string*> binary_tails;
  for (OutputTensor& output : response.outputs) {
    json tensor = {{"name", output.name},
                   {"datatype", std::string(WireName(output.type))},
                   {"shape", output.shape}};
    const HttpOutputFormat::Requested* requested = FindRequested(format, output.name);
    const bool binary = output.type == DataType::kFp16 || output.type == DataType::kBf16 ||
                        (requested && requested->binary ? *requested->binary
                                                        : format.binary_by_default);
    if (requested && requested->in_shared_memory) {
      // The data is in the client's region already.
    } else if (binary) {
      tensor["parameters"] = {{kBinaryDataSize, output.data.size()}};
      binary_tails.push_back(&output.data);
    } else {
      tensor["data"] = DataArray(output.type, output.data);
    }
    outputs.push_back(std::move(tensor));
  }
  root["outputs"] = std::move(outputs);
  HttpBody body;
  body.data = root.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!binary_tails.empty()) {
    body.header_length = body.data.size();
    size_t total = body.data.size();
    for (const std::string* tail : binary_tails) total += tail->size();
    body.data.reserve(total);
    for (const std::string* tail : binary_tails) body.data.append(*tail);
  }
  return body;
}

std::string HttpErrorBody(std::string_view message) {
  return json{{"error", std::string(message)}}.dump(-1, ' ', false,
                                                    json::error_handler_t::replace);
}

}  // namespace sonic::server
