#include "server/frontend/infer_request_view.h"

#include <cstring>
#include <limits>

namespace sonic::server {
namespace {

using inference::InferParameter;

std::span<const std::byte> AsBytes(const std::string& s) {
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

// Protobuf's wire types (the low three bits of a tag).
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Reads protobuf wire data from [p, end); every read checks the bounds and fails rather than go
// past `end`.
class WireReader {
 public:
  explicit WireReader(std::span<const std::byte> bytes)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool done() const { return p_ == end_; }

  // A varint of at most 10 bytes, modulo 2^64 as protobuf reads it.
  bool Varint(uint64_t& value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) return false;
      const auto byte = static_cast<uint8_t>(*p_++);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        value = result;
        return true;
      }
    }
    return false;
  }

  // A tag of a field numbered 1 or above that protobuf reads as such (32 bits).
  bool Tag(uint32_t& field, uint32_t& wire_type) {
    uint64_t tag = 0;
    if (!Varint(tag) || tag > std::numeric_limits<uint32_t>::max() || (tag >> 3) == 0) {
      return false;
    }
    field = static_cast<uint32_t>(tag >> 3);
    wire_type = static_cast<uint32_t>(tag & 7);
    return true;
  }

  // The bytes of a length-delimited field.
  bool Bytes(std::span<const std::byte>& bytes) {
    uint64_t size = 0;
    if (!Varint(size) || size > static_cast<uint64_t>(end_ - p_) ||
        size > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      return false;
    }
    bytes = std::span<const std::byte>(p_, static_cast<size_t>(size));
    p_ += size;
    return true;
  }

  // A length-delimited field that protobuf reads as a proto3 string: only ASCII is taken here,
  // other text is left to protobuf's own UTF-8 check.
  bool Ascii(absl::string_view& text) {
    std::span<const std::byte> bytes;
    if (!Bytes(bytes)) return false;
    for (std::byte b : bytes) {
      if (static_cast<uint8_t>(b) >= 0x80) return false;
    }
    text = absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return true;
  }

  bool Fixed64(uint64_t& value) {
    if (end_ - p_ < 8) return false;
    std::memcpy(&value, p_, 8);  // little-endian, as the host
    p_ += 8;
    return true;
  }

  // Skips a field this decoder does not know, as protobuf does; groups are left to protobuf.
  bool Skip(uint32_t wire_type) {
    uint64_t ignored = 0;
    std::span<const std::byte> bytes;
    switch (wire_type) {
      case kVarint:
        return Varint(ignored);
      case kFixed64:
        return Fixed64(ignored);
      case kLengthDelimited:
        return Bytes(bytes);
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      default:
        return false;
    }
  }

 private:
  const std::byte* p_;
  const std::byte* end_;
};

// Merges one wire InferParameter into `value`: a later oneof case replaces an earlier one.
bool DecodeParameterValue(std::span<const std::byte> bytes, InferParameterValue& value) {
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(field, wire_type)) return false;
    uint64_t number = 0;
    if (field == 1 && wire_type == kVarint) {
      if (!reader.Varint(number)) return false;
      value.kind = InferParameter::kBoolParam;
      value.bool_param = number != 0;
    } else if (field == 2 && wire_type == kVarint) {
      if (!reader.Varint(number)) return false;
      value.kind = InferParameter::kInt64Param;
      value.int64_param = static_cast<int64_t>(number);
    } else if (field == 3 && wire_type == kLengthDelimited) {
      if (!reader.Ascii(value.string_param)) return false;
      value.kind = InferParameter::kStringParam;
    } else if (field == 4 && wire_type == kFixed64) {
      if (!reader.Fixed64(number)) return false;
      value.kind = InferParameter::kDoubleParam;
      std::memcpy(&value.double_param, &number, sizeof(double));
    } else if (field == 5 && wire_type == kVarint) {
      if (!reader.Varint(number)) return false;
      value.kind = InferParameter::kUint64Param;
      value.uint64_param = number;
    } else if (field <= 5 || !reader.Skip(wire_type)) {
      return false;
    }
  }
  return true;
}

// One entry of the request's parameter map: the last key and the merge of every value sent in
// it, replacing an earlier entry of the same key.
bool DecodeParameterEntry(std::span<const std::byte> bytes, InferRequestView& view) {
  WireReader reader(bytes);
  InferRequestView::Parameter entry;
  while (!reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(field, wire_type)) return false;
    std::span<const std::byte> value;
    if (field == 1 && wire_type == kLengthDelimited) {
      if (!reader.Ascii(entry.key)) return false;
    } else if (field == 2 && wire_type == kLengthDelimited) {
      if (!reader.Bytes(value) || !DecodeParameterValue(value, entry.value)) return false;
    } else if (field <= 2 || !reader.Skip(wire_type)) {
      return false;
    }
  }
  for (InferRequestView::Parameter& known : view.parameters) {
    if (known.key == entry.key) {
      known.value = entry.value;
      return true;
    }
  }
  view.parameters.push_back(entry);
  return true;
}

// Appends the dims of a shape field, packed or not, to view.dims.
bool DecodeDims(WireReader& reader, uint32_t wire_type, InferRequestView& view) {
  uint64_t dim = 0;
  if (wire_type == kVarint) {
    if (!reader.Varint(dim)) return false;
    view.dims.push_back(static_cast<int64_t>(dim));
    return true;
  }
  std::span<const std::byte> packed;
  if (!reader.Bytes(packed)) return false;
  WireReader dims(packed);
  while (!dims.done()) {
    if (!dims.Varint(dim)) return false;
    view.dims.push_back(static_cast<int64_t>(dim));
  }
  return true;
}

// An input tensor; its dims go to view.dims (the caller points its shape at them).
bool DecodeInput(std::span<const std::byte> bytes, InferRequestView& view,
                 InferRequestView::Input& input) {
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(field, wire_type)) return false;
    bool read = false;
    if (field == 1 && wire_type == kLengthDelimited) {
      read = reader.Ascii(input.name);
    } else if (field == 2 && wire_type == kLengthDelimited) {
      read = reader.Ascii(input.datatype);
    } else if (field == 3 && (wire_type == kVarint || wire_type == kLengthDelimited)) {
      read = DecodeDims(reader, wire_type, view);
    } else if (field > 5) {
      read = reader.Skip(wire_type);
    }
    // Fields 4 (parameters) and 5 (typed contents) are left to protobuf.
    if (!read) return false;
  }
  return true;
}

bool DecodeOutput(std::span<const std::byte> bytes, InferRequestView::Output& output) {
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(field, wire_type)) return false;
    bool read = false;
    if (field == 1 && wire_type == kLengthDelimited) {
      read = reader.Ascii(output.name);
    } else if (field > 2) {
      read = reader.Skip(wire_type);
    }
    // Field 2 (parameters) is left to protobuf.
    if (!read) return false;
  }
  return true;
}

// Decodes one field of the request; `dims_begin` collects where each input's dims start.
bool DecodeRequestField(WireReader& reader, uint32_t field, uint32_t wire_type,
                        InferRequestView& view, absl::InlinedVector<size_t, 4>& dims_begin) {
  if (field > 7) return reader.Skip(wire_type);
  if (wire_type != kLengthDelimited) return false;
  std::span<const std::byte> bytes;
  switch (field) {
    case 1:
      return reader.Ascii(view.model_name);
    case 2:
      return reader.Ascii(view.model_version);
    case 3:
      return reader.Ascii(view.id);
    case 4:
      return reader.Bytes(bytes) && DecodeParameterEntry(bytes, view);
    case 5:
      dims_begin.push_back(view.dims.size());
      return reader.Bytes(bytes) && DecodeInput(bytes, view, view.inputs.emplace_back());
    case 6:
      return reader.Bytes(bytes) && DecodeOutput(bytes, view.outputs.emplace_back());
    default:
      if (!reader.Bytes(bytes)) return false;
      view.raw_input_contents.push_back(bytes);
      return true;
  }
}

// Empties `view` in place (cheaper than assigning a new one, a few hundred bytes of inline
// storage).
void Clear(InferRequestView& view) {
  view.model_name = {};
  view.model_version = {};
  view.id = {};
  view.parameters.clear();
  view.inputs.clear();
  view.outputs.clear();
  view.raw_input_contents.clear();
  view.dims.clear();
}

}  // namespace

InferParameterValue ValueOf(const InferParameter& parameter) {
  InferParameterValue value;
  value.kind = parameter.parameter_choice_case();
  switch (value.kind) {
    case InferParameter::kBoolParam:
      value.bool_param = parameter.bool_param();
      break;
    case InferParameter::kInt64Param:
      value.int64_param = parameter.int64_param();
      break;
    case InferParameter::kStringParam:
      value.string_param = parameter.string_param();
      break;
    case InferParameter::kDoubleParam:
      value.double_param = parameter.double_param();
      break;
    case InferParameter::kUint64Param:
      value.uint64_param = parameter.uint64_param();
      break;
    default:
      break;
  }
  return value;
}

void ViewMessage(const inference::ModelInferRequest& message, InferRequestView& view) {
  Clear(view);
  view.model_name = message.model_name();
  view.model_version = message.model_version();
  view.id = message.id();
  for (const auto& [key, value] : message.parameters()) {
    view.parameters.push_back({key, ValueOf(value)});
  }
  for (const auto& input : message.inputs()) {
    view.inputs.push_back(
        {input.name(), input.datatype(),
         std::span<const int64_t>(input.shape().data(), static_cast<size_t>(input.shape_size())),
         &input});
  }
  for (const auto& output : message.outputs()) view.outputs.push_back({output.name(), &output});
  for (const std::string& raw : message.raw_input_contents()) {
    view.raw_input_contents.push_back(AsBytes(raw));
  }
}

bool DecodeInferRequest(std::span<const std::byte> wire, InferRequestView& view) {
  Clear(view);
  absl::InlinedVector<size_t, 4> dims_begin;
  WireReader reader(wire);
  while (!reader.done()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.Tag(field, wire_type) ||
        !DecodeRequestField(reader, field, wire_type, view, dims_begin)) {
      return false;
    }
  }
  // view.dims no longer grows: the shapes can point into it.
  for (size_t i = 0; i < view.inputs.size(); ++i) {
    const size_t end = i + 1 < dims_begin.size() ? dims_begin[i + 1] : view.dims.size();
    view.inputs[i].shape =
        std::span<const int64_t>(view.dims.data() + dims_begin[i], end - dims_begin[i]);
  }
  return true;
}

}  // namespace sonic::server
