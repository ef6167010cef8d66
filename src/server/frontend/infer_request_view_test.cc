// DecodeInferRequest against protobuf's parse of the same bytes: for every request the decoder
// takes, ParseInferRequest must give the same status and request from its view as from the
// message (CompareWireDecoder), and the requests it must leave to protobuf are left.
#include "server/frontend/infer_request_view.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/text_format.h"
#include "server/frontend/infer_request_fuzz_support.h"
#include "server/frontend/infer_request_parser.h"
#include "sonic/common/data_type.h"

namespace sonic::server {
namespace {

using inference::ModelInferRequest;
using InputTensor = ModelInferRequest::InferInputTensor;

// ------------------------------------------------------------------------- wire building

std::string Varint(uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}
std::string Tag(uint32_t field, uint32_t wire_type) {
  return Varint((uint64_t{field} << 3) | wire_type);
}
std::string VarintField(uint32_t field, uint64_t value) { return Tag(field, 0) + Varint(value); }
std::string Delimited(uint32_t field, std::string_view bytes) {
  return Tag(field, 2) + Varint(bytes.size()) + std::string(bytes);
}
std::string Fixed64Field(uint32_t field, uint64_t value) {
  std::string out = Tag(field, 1);
  out.append(reinterpret_cast<const char*>(&value), 8);
  return out;
}
std::string Fixed32Field(uint32_t field, uint32_t value) {
  std::string out = Tag(field, 5);
  out.append(reinterpret_cast<const char*>(&value), 4);
  return out;
}
// One field of each wire type protobuf skips when it does not know the field.
std::string UnknownFields(uint32_t first) {
  return VarintField(first, 300) + Fixed64Field(first + 1, 7) + Delimited(first + 2, "skip me") +
         Fixed32Field(first + 3, 9);
}

// ------------------------------------------------------------------------- requests

// "types", batched up to 4: one [2] input per datatype, named by the type in lower case.
inference::ModelConfig TypesConfig() {
  std::string text = "name: 'types' max_batch_size: 4 ";
  for (const char* type : {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
                           "INT64", "FP16", "FP32", "FP64", "STRING", "BF16"}) {
    std::string name = type;
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    text += "input { name: '" + name + "' data_type: TYPE_" + type + " dims: [ 2 ] } ";
  }
  text += "output { name: 'o' data_type: TYPE_FP32 dims: [ 1 ] } ";
  text += "output { name: 'p' data_type: TYPE_INT32 dims: [ -1 ] }";
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config));
  return config;
}

std::string Bytes(size_t n, char seed) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(seed + 7 * i);
  return out;
}

// BYTES elements with their 4-byte length prefixes.
std::string Strings(std::initializer_list<std::string> values) {
  std::string out;
  for (const std::string& v : values) {
    const uint32_t n = static_cast<uint32_t>(v.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out += v;
  }
  return out;
}

InputTensor* AddInput(ModelInferRequest& message, const std::string& name,
                      const std::string& datatype, std::initializer_list<int64_t> shape,
                      std::optional<std::string> raw) {
  InputTensor* input = message.add_inputs();
  input->set_name(name);
  input->set_datatype(datatype);
  for (int64_t d : shape) input->add_shape(d);
  if (raw) message.add_raw_input_contents(*raw);
  return input;
}

// A valid request of the fixture's "mlp" (batched, x FP32 [4]), batch 3.
ModelInferRequest MlpRequest() {
  ModelInferRequest message;
  message.set_model_name("mlp");
  message.set_model_version("2");
  message.set_id("request-7");
  AddInput(message, "x", "FP32", {3, 4}, Bytes(48, 1));
  message.add_outputs()->set_name("y");
  return message;
}

// A valid request of TypesConfig() with batch 2: every datatype's input, raw.
ModelInferRequest TypesRequest() {
  ModelInferRequest message;
  message.set_model_name("types");
  const std::pair<const char*, size_t> types[] = {
      {"BOOL", 1}, {"UINT8", 1}, {"UINT16", 2}, {"UINT32", 4}, {"UINT64", 8},
      {"INT8", 1}, {"INT16", 2}, {"INT32", 4},  {"INT64", 8},  {"FP16", 2},
      {"FP32", 4}, {"FP64", 8},  {"BYTES", 0},  {"BF16", 2}};
  char seed = 0;
  for (const auto& [type, size] : types) {
    std::string name = type == std::string("BYTES") ? "string" : type;
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    std::string raw = size == 0 ? Strings({"a", "", "bcd", "efgh"}) : Bytes(4 * size, ++seed);
    if (type == std::string("BOOL")) raw = std::string("\x01\x00\x01\x01", 4);
    AddInput(message, name, type, {2, 2}, raw);
  }
  message.add_outputs()->set_name("p");
  return message;
}

class InferRequestViewTest : public ::testing::Test {
 protected:
  InferRequestViewTest() : types_(*ModelSignature::Create(TypesConfig(), uint64_t{1} << 26)) {}

  const ModelSignature& Model(size_t index) { return *fuzz::Fixture().signatures.at(index); }
  const ModelSignature& Mlp() { return Model(0); }
  const ModelSignature& Ragged() { return Model(1); }
  const ModelSignature& Text() { return Model(2); }
  const ModelSignature& Halves() { return Model(3); }

  // Expects the decoder to take `wire` when `decoded` says so (to leave it when false; either
  // when unset), and, whenever it takes it, to agree with protobuf.
  void ExpectAgrees(std::string_view wire, const ModelSignature& signature,
                    std::optional<bool> decoded = true) {
    const ClientRegions regions(fuzz::Fixture().registry, fuzz::Fixture().client);
    const fuzz::WireComparison compared = fuzz::CompareWireDecoder(wire, signature, regions);
    if (decoded) {
      EXPECT_EQ(compared.decoded, *decoded);
    }
    EXPECT_EQ(compared.difference, "");
  }

  // As above for a message's serialization, and expects ParseInferRequest's status on it to be
  // `ok`, so that a case cannot pass by testing something else.
  void ExpectAgrees(const ModelInferRequest& message, const ModelSignature& signature, bool ok,
                    bool decoded = true) {
    InferenceRequest request;
    const absl::Status status = ParseInferRequest(message, signature, request);
    EXPECT_EQ(status.ok(), ok) << status;
    ExpectAgrees(message.SerializeAsString(), signature, decoded);
  }

  std::unique_ptr<ModelSignature> types_;
};

TEST_F(InferRequestViewTest, ValidRequestsOfEveryDatatypeAndModel) {
  ExpectAgrees(TypesRequest(), *types_, true);
  ExpectAgrees(MlpRequest(), Mlp(), true);

  ModelInferRequest ragged;
  AddInput(ragged, "points", "FP32", {2, 5, 3}, Bytes(120, 3));
  ExpectAgrees(ragged, Ragged(), true);
  AddInput(ragged, "mask", "INT64", {2, 5}, Bytes(80, 4));
  ragged.add_outputs()->set_name("score");
  ExpectAgrees(ragged, Ragged(), true);

  ModelInferRequest text;
  AddInput(text, "flag", "BOOL", {1}, std::string(1, '\x01'));
  AddInput(text, "text", "BYTES", {3}, Strings({"x", "yz", ""}));
  ExpectAgrees(text, Text(), true);

  ModelInferRequest halves;
  AddInput(halves, "a", "FP16", {1, 2, 2}, Bytes(8, 5));
  AddInput(halves, "b", "UINT8", {1, 6}, Bytes(6, 6));
  ExpectAgrees(halves, Halves(), true);
}

TEST_F(InferRequestViewTest, DecodedInputsAreViewedInPlace) {
  const std::string wire = MlpRequest().SerializeAsString();
  InferRequestView view;
  ASSERT_TRUE(DecodeInferRequest(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(wire.data()), wire.size()),
      view));
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(view, Mlp(), request).ok());
  ASSERT_EQ(request.inputs.size(), 1u);
  const char* data = reinterpret_cast<const char*>(request.inputs[0].data.data());
  EXPECT_GE(data, wire.data());
  EXPECT_LE(data + request.inputs[0].data.size(), wire.data() + wire.size());
  EXPECT_EQ(std::string(data, 48), Bytes(48, 1));
  EXPECT_EQ(view.model_name, "mlp");
  EXPECT_EQ(view.model_version, "2");
  EXPECT_EQ(request.id, "request-7");
  EXPECT_EQ(request.batch_size, 3);
}

TEST_F(InferRequestViewTest, RequestParametersOfEveryTypeAndKey) {
  using Setter = void (*)(inference::InferParameter&);
  const Setter values[] = {
      [](inference::InferParameter& p) { p.set_bool_param(true); },
      [](inference::InferParameter& p) { p.set_int64_param(12); },
      [](inference::InferParameter& p) { p.set_int64_param(-3); },
      [](inference::InferParameter& p) { p.set_string_param("text"); },
      [](inference::InferParameter& p) { p.set_double_param(2.5); },
      [](inference::InferParameter& p) { p.set_uint64_param(uint64_t{1} << 63); },
      [](inference::InferParameter&) {},
  };
  int errors = 0;
  for (const char* key : {"priority", "timeout", "sequence_id", "sequence_end",
                          "triton_enable_empty_final_response", "triton_other", "custom", ""}) {
    for (Setter set : values) {
      ModelInferRequest message = MlpRequest();
      set((*message.mutable_parameters())[key]);
      InferenceRequest request;
      const bool ok = ParseInferRequest(message, Mlp(), request).ok();
      errors += ok ? 0 : 1;
      ExpectAgrees(message, Mlp(), ok);
    }
  }
  EXPECT_GT(errors, 10);  // wrong types, negative values, reserved keys
  ModelInferRequest both = MlpRequest();
  (*both.mutable_parameters())["priority"].set_uint64_param(2);
  (*both.mutable_parameters())["timeout"].set_int64_param(5000);
  ExpectAgrees(both, Mlp(), true);
  // Two bad parameters: the same one is named whichever order they come in.
  (*both.mutable_parameters())["triton_x"].set_bool_param(true);
  (*both.mutable_parameters())["priority"].set_string_param("high");
  ExpectAgrees(both, Mlp(), false);
}

TEST_F(InferRequestViewTest, MapEntriesAsProtobufReadsThem) {
  const std::string base = MlpRequest().SerializeAsString();
  auto entry = [](std::string_view key, const std::string& value) {
    return Delimited(4, Delimited(1, key) + Delimited(2, value));
  };
  // The same key twice: the last entry wins, whole.
  ExpectAgrees(base + entry("priority", VarintField(2, 4)) + entry("priority", VarintField(5, 6)),
               Mlp());
  ExpectAgrees(base + entry("priority", VarintField(2, 4)) + entry("priority", ""), Mlp());
  // Values sent twice in one entry merge; a later oneof case replaces an earlier one.
  ExpectAgrees(base + Delimited(4, Delimited(1, "priority") + Delimited(2, VarintField(2, 4)) +
                                       Delimited(2, "")),
               Mlp());
  ExpectAgrees(base + Delimited(4, Delimited(1, "timeout") + Delimited(2, VarintField(2, 4)) +
                                       Delimited(2, Delimited(3, "s"))),
               Mlp());
  ExpectAgrees(base + Delimited(4, Delimited(2, VarintField(1, 2) + VarintField(2, 1)) +
                                       Delimited(1, "priority") + Delimited(1, "timeout")),
               Mlp());
  // No key (""), no value, and unknown fields in the entry and in the value.
  ExpectAgrees(base + Delimited(4, Delimited(2, VarintField(2, 1))), Mlp());
  ExpectAgrees(base + Delimited(4, Delimited(1, "priority")), Mlp());
  ExpectAgrees(base + Delimited(4, UnknownFields(3) + Delimited(1, "priority") +
                                       Delimited(2, UnknownFields(6) + VarintField(2, 9))),
               Mlp());
  // A double and a bool of any varint value.
  ExpectAgrees(base + entry("priority", Fixed64Field(4, 0x4004000000000000)), Mlp());
  ExpectAgrees(base + entry("triton_enable_empty_final_response", VarintField(1, 7)), Mlp());
}

TEST_F(InferRequestViewTest, FieldsSentTwiceKeepTheLastValueAndRepeatedOnesAccumulate) {
  ModelInferRequest later;
  later.set_model_name("other");
  later.set_id("second");
  ExpectAgrees(MlpRequest().SerializeAsString() + later.SerializeAsString(), Mlp());
  // Another input and raw contents appended: two inputs of the one config input.
  ExpectAgrees(MlpRequest().SerializeAsString() + MlpRequest().SerializeAsString(), Mlp());
  // Inside one input: the last name and datatype; shapes packed, unpacked and split.
  const std::string raw = Delimited(7, Bytes(48, 2));
  ExpectAgrees(
      Delimited(5, Delimited(1, "nope") + Delimited(1, "x") + Delimited(2, "INT8") +
                       Delimited(2, "FP32") + Delimited(3, Varint(3)) + VarintField(3, 4)) +
          raw,
      Mlp());
  ExpectAgrees(Delimited(5, Delimited(1, "x") + Delimited(2, "FP32") + VarintField(3, 3) +
                                VarintField(3, 4)) +
                   raw + Delimited(6, Delimited(1, "z") + Delimited(1, "y")),
               Mlp());
  ExpectAgrees(Delimited(5, Delimited(1, "x") + Delimited(2, "FP32") + Delimited(3, "") +
                                Delimited(3, Varint(3) + Varint(4))) +
                   raw,
               Mlp());
  // Negative and huge dims in 10-byte varints.
  ExpectAgrees(Delimited(5, Delimited(1, "x") + Delimited(2, "FP32") +
                                Delimited(3, Varint(static_cast<uint64_t>(-3)) + Varint(4))) +
                   raw,
               Mlp());
  ExpectAgrees(
      Delimited(5, Delimited(1, "x") + Delimited(2, "FP32") +
                       Delimited(3, Varint(uint64_t{1} << 62) + Varint(uint64_t{1} << 62))) +
          raw,
      Mlp());
}

TEST_F(InferRequestViewTest, UnknownFieldsAreSkipped) {
  const std::string raw = Delimited(7, Bytes(48, 2));
  ExpectAgrees(
      UnknownFields(8) + Delimited(1, "mlp") + UnknownFields(1000) +
          Delimited(5, UnknownFields(6) + Delimited(1, "x") + Delimited(2, "FP32") +
                           Delimited(3, Varint(3) + Varint(4)) + UnknownFields(536870000)) +
          Delimited(6, Delimited(1, "y") + UnknownFields(3)) + raw,
      Mlp());
  // Groups are protobuf's to skip.
  ExpectAgrees(MlpRequest().SerializeAsString() + Tag(20, 3) + VarintField(1, 1) + Tag(20, 4),
               Mlp(), false);
}

TEST_F(InferRequestViewTest, ParserErrorsAreTheSame) {
  std::vector<std::pair<ModelInferRequest, const ModelSignature*>> bad;
  auto add = [&](const ModelSignature& signature, auto change) {
    ModelInferRequest message = MlpRequest();
    change(message);
    bad.emplace_back(std::move(message), &signature);
  };
  const ModelSignature& mlp = Mlp();
  add(mlp, [](ModelInferRequest& m) { m.mutable_inputs(0)->set_name("w"); });
  add(mlp, [](ModelInferRequest& m) {
    m.clear_inputs();
    m.clear_raw_input_contents();
  });
  add(mlp, [](ModelInferRequest& m) { AddInput(m, "x", "FP32", {3, 4}, Bytes(48, 1)); });
  add(mlp, [](ModelInferRequest& m) { m.mutable_inputs(0)->set_datatype("INT32"); });
  add(mlp, [](ModelInferRequest& m) { m.mutable_inputs(0)->set_datatype("FLOAT"); });
  add(mlp, [](ModelInferRequest& m) { m.mutable_inputs(0)->set_shape(1, 5); });
  add(mlp, [](ModelInferRequest& m) { m.mutable_inputs(0)->add_shape(1); });
  add(mlp, [](ModelInferRequest& m) { m.mutable_inputs(0)->set_shape(0, -1); });
  add(mlp, [](ModelInferRequest& m) { m.mutable_inputs(0)->set_shape(0, 0); });
  add(mlp, [](ModelInferRequest& m) { m.mutable_inputs(0)->set_shape(0, 9); });
  add(mlp, [](ModelInferRequest& m) { m.set_raw_input_contents(0, Bytes(47, 1)); });
  add(mlp, [](ModelInferRequest& m) { m.add_raw_input_contents("extra"); });
  add(mlp, [](ModelInferRequest& m) { m.clear_raw_input_contents(); });
  add(mlp, [](ModelInferRequest& m) { m.add_outputs()->set_name("y"); });
  add(mlp, [](ModelInferRequest& m) { m.mutable_outputs(0)->set_name("yy"); });
  add(Ragged(), [](ModelInferRequest& m) {
    m.clear_inputs();
    m.clear_raw_input_contents();
    AddInput(m, "points", "FP32", {2, 1, 3}, Bytes(24, 1));
    AddInput(m, "offsets", "INT32", {2}, Bytes(8, 1));
  });
  add(Ragged(), [](ModelInferRequest& m) {
    m.clear_inputs();
    m.clear_raw_input_contents();
    m.clear_outputs();
    AddInput(m, "points", "FP32", {2, 1, 3}, Bytes(24, 1));
    AddInput(m, "mask", "INT64", {3, 1}, Bytes(24, 1));
  });
  add(Ragged(), [](ModelInferRequest& m) {
    m.clear_inputs();
    m.clear_raw_input_contents();
    m.clear_outputs();
    AddInput(m, "points", "FP32", {1, int64_t{1} << 62, 3}, Bytes(12, 1));
  });
  add(Text(), [](ModelInferRequest& m) {
    m.clear_inputs();
    m.clear_raw_input_contents();
    m.clear_outputs();
    AddInput(m, "flag", "BOOL", {1}, std::string(1, '\x01'));
    AddInput(m, "text", "BYTES", {2}, Strings({"x"}) + std::string(3, '\x7f'));
  });
  for (const auto& [message, signature] : bad) {
    SCOPED_TRACE(message.ShortDebugString());
    ExpectAgrees(message, *signature, false);
  }
}

TEST_F(InferRequestViewTest, RareFormsAreLeftToProtobuf) {
  ModelInferRequest typed;
  InputTensor* x = AddInput(typed, "x", "FP32", {1, 4}, std::nullopt);
  for (float v : {1.f, 2.f, 3.f, 4.f}) x->mutable_contents()->add_fp32_contents(v);
  ExpectAgrees(typed, Mlp(), true, false);

  ModelInferRequest shm = MlpRequest();
  shm.clear_raw_input_contents();
  (*shm.mutable_inputs(0)->mutable_parameters())["shared_memory_region"].set_string_param(
      "region0");
  (*shm.mutable_inputs(0)->mutable_parameters())["shared_memory_byte_size"].set_int64_param(48);
  ExpectAgrees(shm.SerializeAsString(), Mlp(), false);

  ModelInferRequest classification = MlpRequest();
  (*classification.mutable_outputs(0)->mutable_parameters())["classification"].set_int64_param(1);
  ExpectAgrees(classification, Mlp(), true, false);

  ModelInferRequest accented = MlpRequest();
  accented.set_id("r\xc3\xa9sum\xc3\xa9");
  ExpectAgrees(accented, Mlp(), true, false);
  // Not UTF-8: protobuf refuses to parse it; the decoder leaves it to protobuf.
  ExpectAgrees(MlpRequest().SerializeAsString() + Delimited(3, "\xff"), Mlp(), false);
  // A known field with another wire type.
  ExpectAgrees(MlpRequest().SerializeAsString() + VarintField(1, 5), Mlp(), false);
  ExpectAgrees(MlpRequest().SerializeAsString() + VarintField(7, 5), Mlp(), false);
}

TEST_F(InferRequestViewTest, TruncatedAndCorruptedBytesNeverDiffer) {
  ModelInferRequest message = MlpRequest();
  (*message.mutable_parameters())["priority"].set_int64_param(3);
  (*message.mutable_parameters())["triton_enable_empty_final_response"].set_bool_param(true);
  const std::string wire = message.SerializeAsString() + UnknownFields(30);
  for (size_t n = 0; n < wire.size(); ++n) {
    SCOPED_TRACE(n);
    // Copied, so that a read past the prefix is a read past the buffer (for ASan).
    const std::vector<char> prefix(wire.begin(), wire.begin() + static_cast<ptrdiff_t>(n));
    ExpectAgrees(std::string_view(prefix.data(), prefix.size()), Mlp(), std::nullopt);
  }
  for (size_t i = 0; i < wire.size(); ++i) {
    for (char flip : {'\x01', '\x80', '\xff', '\x08'}) {
      std::string corrupted = wire;
      corrupted[i] = static_cast<char>(corrupted[i] ^ flip);
      SCOPED_TRACE(testing::Message() << i << " ^ " << int(flip));
      ExpectAgrees(corrupted, Mlp(), std::nullopt);
    }
  }
  std::mt19937 random(20);
  for (int i = 0; i < 2000; ++i) {
    std::string garbage(random() % 64, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    ExpectAgrees(garbage, Model(static_cast<size_t>(i) % 4), std::nullopt);
  }
}

}  // namespace
}  // namespace sonic::server
