#include "server/frontend/http_message_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"

namespace sonic::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

void FixObject(const Descriptor& descriptor, json& object);

void FixValue(const FieldDescriptor& field, json& value) {
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    FixObject(*field.message_type(), value);
  } else if (value.is_string() && field.cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
    int64_t number = 0;
    if (absl::SimpleAtoi(value.get<std::string>(), &number)) value = number;
  } else if (value.is_string() && field.cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
    uint64_t number = 0;
    if (absl::SimpleAtoi(value.get<std::string>(), &number)) value = number;
  }
}

// Walks `object` with the message's descriptor, turning 64-bit integer strings into numbers.
void FixObject(const Descriptor& descriptor, json& object) {
  if (!object.is_object()) return;
  for (auto item : object.items()) {
    const FieldDescriptor* field = descriptor.FindFieldByName(item.key());
    if (field == nullptr) continue;
    json& value = item.value();
    if (field->is_map()) {
      const FieldDescriptor* mapped = field->message_type()->map_value();
      for (auto entry : value.items()) FixValue(*mapped, entry.value());
    } else if (field->is_repeated()) {
      for (json& element : value) FixValue(*field, element);
    } else {
      FixValue(*field, value);
    }
  }
}

}  // namespace

absl::StatusOr<std::string> MessageToTritonJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  const auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) {
    return absl::InternalError("cannot print " + message.GetTypeName() + " as JSON: " +
                               status.ToString());
  }
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InternalError("protobuf printed invalid JSON");
  FixObject(*message.GetDescriptor(), parsed);
  return parsed.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace sonic::server
