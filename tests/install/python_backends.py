"""Models of the backends that run on a Python environment, for the install and package tests.

  python_backends.py write REPOSITORY [--tensorflow]
      writes onnx_double (onnxruntime: y = 2x), py_add_sub (python: model.py with
      triton_python_backend_utils) and, with --tensorflow, tf_double (a TensorFlow GraphDef,
      y = x + x, encoded here as protobuf bytes so that writing it needs no TensorFlow import).
  python_backends.py serve ADDRESS MODEL...
      queries each model through the stock tritonclient and checks its outputs.
  python_backends.py unavailable ADDRESS TEXT MODEL...
      checks that each model is not ready and that its reason in the repository index contains TEXT.

Run with the project's virtual environment (.venv/bin/python): onnx and tritonclient come from it.
"""

import pathlib
import sys

import numpy as np

MODEL_PY = '''
import json
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.dtype = pb_utils.triton_string_to_numpy(
            pb_utils.get_output_config_by_name(config, "SUM")["data_type"])

    def execute(self, requests):
        responses = []
        for request in requests:
            a = pb_utils.get_input_tensor_by_name(request, "A").as_numpy()
            b = pb_utils.get_input_tensor_by_name(request, "B").as_numpy()
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("SUM", (a + b).astype(self.dtype)),
                pb_utils.Tensor("DIFFERENCE", (a - b).astype(self.dtype))]))
        return responses
'''


def _config(directory, text):
    (directory / "1").mkdir(parents=True, exist_ok=True)
    (directory / "config.pbtxt").write_text(text)


def write_onnx(repository):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"])], "onnx_double",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        initializer=[numpy_helper.from_array(np.array([2], dtype=np.float32), "two")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    directory = repository / "onnx_double"
    _config(directory, '''name: "onnx_double"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]
''')
    onnx.save(model, str(directory / "1" / "model.onnx"))


def write_python(repository):
    directory = repository / "py_add_sub"
    _config(directory, '''name: "py_add_sub"
backend: "python"
max_batch_size: 8
input [ { name: "A" data_type: TYPE_FP32 dims: [ 4 ] },
        { name: "B" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "SUM" data_type: TYPE_FP32 dims: [ 4 ] },
         { name: "DIFFERENCE" data_type: TYPE_FP32 dims: [ 4 ] } ]
''')
    (directory / "1" / "model.py").write_text(MODEL_PY)


# Protocol buffer wire format, enough for a GraphDef of two nodes.
def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _bytes_field(number, payload):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint_field(number, value):
    return _varint(number << 3) + _varint(value)


def _node(name, op, inputs, type_attr):
    """NodeDef: name = 1, op = 2, input = 3, attr = 5 (map<string, AttrValue>, AttrValue.type = 6)."""
    dt_float = 1
    attr_entry = _bytes_field(1, type_attr.encode()) + _bytes_field(2, _varint_field(6, dt_float))
    return (_bytes_field(1, name.encode()) + _bytes_field(2, op.encode()) +
            b"".join(_bytes_field(3, i.encode()) for i in inputs) + _bytes_field(5, attr_entry))


def write_tensorflow(repository):
    graph = (_bytes_field(1, _node("x", "Placeholder", [], "dtype")) +
             _bytes_field(1, _node("y", "AddV2", ["x", "x"], "T")))
    directory = repository / "tf_double"
    _config(directory, '''name: "tf_double"
platform: "tensorflow_graphdef"
max_batch_size: 8
input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]
''')
    (directory / "1" / "model.graphdef").write_bytes(graph)


def _grpc():
    import tritonclient.grpc as grpcclient
    return grpcclient


def _infer(grpcclient, client, model, inputs, outputs):
    tensors = []
    for name, value in inputs.items():
        tensor = grpcclient.InferInput(name, list(value.shape), "FP32")
        tensor.set_data_from_numpy(value)
        tensors.append(tensor)
    result = client.infer(model, tensors,
                          outputs=[grpcclient.InferRequestedOutput(name) for name in outputs])
    return {name: result.as_numpy(name) for name in outputs}


def serve(address, models):
    grpcclient = _grpc()
    client = grpcclient.InferenceServerClient(address)
    x = np.arange(8, dtype=np.float32).reshape(2, 4) - 3.5
    y = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    for model in models:
        if not client.is_model_ready(model):
            index = client.get_model_repository_index(as_json=True)
            sys.exit(f"{model} is not ready: {index}")
        if model == "onnx_double" or model == "tf_double":
            out = _infer(grpcclient, client, model, {"x": x}, ["y"])
            np.testing.assert_allclose(out["y"], 2 * x, rtol=1e-6)
        elif model == "py_add_sub":
            out = _infer(grpcclient, client, model, {"A": x, "B": y}, ["SUM", "DIFFERENCE"])
            np.testing.assert_allclose(out["SUM"], x + y, rtol=1e-6)
            np.testing.assert_allclose(out["DIFFERENCE"], x - y, rtol=1e-6)
        else:
            sys.exit(f"no check for model {model}")
        print(f"{model}: served correctly")


def unavailable(address, text, models):
    grpcclient = _grpc()
    client = grpcclient.InferenceServerClient(address)
    index = {entry["name"]: entry
             for entry in client.get_model_repository_index(as_json=True).get("models", [])}
    for model in models:
        if client.is_model_ready(model):
            sys.exit(f"{model} is ready, expected it unavailable")
        reason = index.get(model, {}).get("reason", "")
        if text not in reason:
            sys.exit(f"{model}: reason {reason!r} does not contain {text!r}")
        print(f"{model}: unavailable: {reason}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "write":
        repository = pathlib.Path(argv[1])
        write_onnx(repository)
        write_python(repository)
        if "--tensorflow" in argv[2:]:
            write_tensorflow(repository)
    elif len(argv) >= 3 and argv[0] == "serve":
        serve(argv[1], argv[2:])
    elif len(argv) >= 4 and argv[0] == "unavailable":
        unavailable(argv[1], argv[2], argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
