"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): valid inputs of each
kind, from which the fuzzers mutate. Run with the project's virtual environment (the protobuf
messages come from tritonclient):  .venv/bin/python tests/fuzz/make_seed_corpus.py
The corpora are committed; this script says how they were made and remakes them."""
import json
import pathlib
import struct

from tritonclient.grpc import service_pb2

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
# The configurations of src/server/frontend/infer_request_fuzz_support.cc, by index.
MLP, RAGGED, STRINGS, HALVES = range(4)


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def tensor(message, name, datatype, shape, raw=None):
    entry = message.inputs.add(name=name, datatype=datatype, shape=shape)
    if raw is not None:
        message.raw_input_contents.append(raw)
    return entry


def infer_requests():
    m = service_pb2.ModelInferRequest(model_name="mlp", id="seed")
    tensor(m, "x", "FP32", [2, 4], struct.pack("<8f", *range(8)))
    m.outputs.add(name="y")
    yield "mlp_raw", MLP, m

    m = service_pb2.ModelInferRequest(model_name="mlp")
    x = tensor(m, "x", "FP32", [1, 4])
    x.contents.fp32_contents.extend([0.5, 1.5, -2.0, 3.0])
    m.parameters["priority"].int64_param = 2
    m.parameters["timeout"].int64_param = 1000
    m.parameters["triton_enable_empty_final_response"].bool_param = True
    out = m.outputs.add(name="y")
    out.parameters["classification"].int64_param = 1
    yield "mlp_typed_parameters", MLP, m

    m = service_pb2.ModelInferRequest(model_name="mlp")
    x = tensor(m, "x", "FP32", [1, 4])
    x.parameters["shared_memory_region"].string_param = "region0"
    x.parameters["shared_memory_byte_size"].int64_param = 16
    x.parameters["shared_memory_offset"].int64_param = 64
    out = m.outputs.add(name="y")
    out.parameters["shared_memory_region"].string_param = "region0"
    out.parameters["shared_memory_byte_size"].int64_param = 8
    yield "mlp_shared_memory", MLP, m

    m = service_pb2.ModelInferRequest(model_name="ragged")
    tensor(m, "points", "FP32", [1, 5, 3], struct.pack("<15f", *range(15)))
    tensor(m, "mask", "INT64", [1, 5], struct.pack("<5q", 1, 1, 1, 0, 0))
    yield "ragged_raw", RAGGED, m

    m = service_pb2.ModelInferRequest(model_name="strings")
    words = [b"jet", b"", b"tau\x00lepton"]
    tensor(m, "text", "BYTES", [3], b"".join(struct.pack("<I", len(w)) + w for w in words))
    tensor(m, "flag", "BOOL", [1], b"\x01")
    yield "strings_raw", STRINGS, m

    m = service_pb2.ModelInferRequest(model_name="strings")
    text = tensor(m, "text", "BYTES", [2])
    text.contents.bytes_contents.extend([b"muon", b"electron"])
    flag = tensor(m, "flag", "BOOL", [1])
    flag.contents.bool_contents.append(False)
    yield "strings_typed", STRINGS, m

    m = service_pb2.ModelInferRequest(model_name="halves")
    tensor(m, "a", "FP16", [1, 2, 2], struct.pack("<4e", 1.0, -2.0, 0.5, 65504.0))
    tensor(m, "b", "UINT8", [1, 3], b"\x00\x7f\xff")
    yield "halves_raw", HALVES, m


def http_bodies():
    body = {"id": "seed", "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4],
                                      "data": [[0, 1, 2, 3], [4.5, 5, 6, 7]]}],
            "outputs": [{"name": "y", "parameters": {"binary_data": True}}]}
    yield "mlp_json", MLP, None, json.dumps(body).encode()

    header = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4],
                                     "parameters": {"binary_data_size": 16}}]}).encode()
    yield "mlp_binary", MLP, len(header), header + struct.pack("<4f", 1, 2, 3, 4)

    body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": ["a", "bc"]},
                       {"name": "flag", "datatype": "BOOL", "shape": [1], "data": [True]}],
            "parameters": {"priority": 1, "timeout": 5}}
    yield "strings_json", STRINGS, None, json.dumps(body).encode()

    body = {"inputs": [{"name": "points", "datatype": "FP32", "shape": [1, 2, 3],
                        "data": [1, 2, 3, 4, 5, 6]}],
            "outputs": [{"name": "score", "parameters": {"classification": 1}}]}
    yield "ragged_json", RAGGED, None, json.dumps(body).encode()

    body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "parameters": {
        "shared_memory_region": "region0", "shared_memory_byte_size": 16}}]}
    yield "mlp_shared_memory", MLP, None, json.dumps(body).encode()


CONFIGS = {
    "identity": """name: "fuzzed" backend: "identity" max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 100
  default_queue_policy { timeout_action: REJECT default_timeout_microseconds: 1000
    allow_timeout_override: true max_queue_size: 16 } priority_levels: 2 default_priority_level: 1 }
instance_group [ { count: 2 kind: KIND_CPU } ]
""",
    "particlenet": """platform: "pytorch_libtorch" max_batch_size: 64
input [ { name: "points__0" data_type: TYPE_FP32 dims: [ -1, 2 ] allow_ragged_batch: true },
        { name: "features__1" data_type: TYPE_FP32 dims: [ -1, 4 ] allow_ragged_batch: true } ]
batch_input [ { kind: BATCH_ACCUMULATED_ELEMENT_COUNT target_name: "offsets__2"
  data_type: TYPE_INT64 source_input: "points__0" } ]
output [ { name: "softmax__0" data_type: TYPE_FP32 dims: [ 2 ] label_filename: "labels.txt" } ]
parameters { key: "equal_variable_dims" value: { string_value: "points__0,features__1" } }
model_repository_agents { agents [ { name: "checksum" parameters { key: "MD5:1/model.pt"
  value: "0123456789abcdef0123456789abcdef" } } ] }
""",
    "reshape_optional": """backend: "pytorch" max_batch_size: 0
input [ { name: "a" data_type: TYPE_INT32 dims: [ 2, 3 ] reshape: { shape: [ 6 ] } },
        { name: "b" data_type: TYPE_STRING dims: [ 1 ] optional: true } ]
output [ { name: "c" data_type: TYPE_FP16 dims: [ 6 ] } ]
version_policy: { specific: { versions: [ 1, 3 ] } }
instance_group [ { count: 1 kind: KIND_GPU gpus: [ 0 ] } ]
""",
    "ensemble": """platform: "ensemble" max_batch_size: 4
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
ensemble_scheduling { step [ { model_name: "pre" model_version: -1
  input_map { key: "x" value: "IN" } output_map { key: "y" value: "mid" } },
  { model_name: "net" model_version: 1 input_map { key: "x" value: "mid" }
  output_map { key: "y" value: "OUT" } } ] }
""",
}


def main():
    for name, config, message in infer_requests():
        write("infer_request_fuzzer", name, bytes([config]) + message.SerializeToString())
    for name, config, header_length, body in http_bodies():
        length = 0xFFFF if header_length is None else header_length
        write("http_infer_fuzzer", name, bytes([config]) + struct.pack("<H", length) + body)
    for name, text in CONFIGS.items():
        write("model_config_fuzzer", name, text)
    # Decision sequences (see the targets' FuzzInput use): a few shapes of trees and of
    # register/unregister sequences, so that mutation starts from inputs that do something.
    write("model_repository_fuzzer", "models",
          bytes([8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 7, 0, 1, 0, 1, 0,
                 1, 0, 0, 0, 1, 0, 8, 0, 1, 0, 4, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 5, 0, 3, 0]))
    write("model_repository_fuzzer", "links",
          bytes([4, 0, 1, 0, 0, 0, 7, 0, 2, 0, 4, 0, 0, 0, 8, 0, 2, 0, 6, 0, 1, 0, 1, 0, 3, 0,
                 1, 0, 7, 0, 2, 0, 2, 0, 1, 0, 0, 0, 4, 0, 3, 1, 0, 1, 0, 0, 3, 0]))
    write("shared_memory_manager_fuzzer", "register_status_unregister",
          bytes([0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 8, 0,
                 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 4, 0,
                 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 3, 0]))
    write("shared_memory_manager_fuzzer", "limits_and_clashes",
          bytes([0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 7, 0,
                 2, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 7, 0,
                 0, 0, 2, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 9, 0,
                 1, 0, 0, 0, 2, 0, 3, 0, 1, 0, 0, 2, 0, 0, 1, 10, 0]))


if __name__ == "__main__":
    main()
