"""ONNX models for the onnxruntime backend's tests and benchmark, built with the onnx package.

`particlenet_like` is a small ParticleNet-shaped classifier: per-particle MLP over a variable number
of particles, masked mean pooling, a dense head and a softmax. `doubler` is an INT64 model without a
batch dimension; `string_identity` passes BYTES (tensor(string)) through. Weights are drawn from a
fixed seed, so every run builds the same models.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
FEATURES = 16
HIDDEN = 64
CLASSES = 5

PARTICLENET_CONFIG = """name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 128
input [
  {{ name: "pf_features" data_type: TYPE_FP32 dims: [ -1, {features} ] }},
  {{ name: "pf_mask" data_type: TYPE_FP32 dims: [ -1, 1 ] }}
]
output [ {{ name: "softmax" data_type: TYPE_FP32 dims: [ {classes} ] }} ]
dynamic_batching {{ max_queue_delay_microseconds: 100 }}
instance_group [ {{ count: {instances} kind: KIND_CPU }} ]
{extra}"""


def _weight(rng, name, *shape):
    scale = 1.0 / np.sqrt(shape[0])
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def particlenet_like(seed=7):
    """The model: inputs pf_features [B, P, 16] and pf_mask [B, P, 1], output softmax [B, 5]."""
    rng = np.random.default_rng(seed)
    weights = [
        _weight(rng, "w1", FEATURES, HIDDEN), _weight(rng, "b1", HIDDEN),
        _weight(rng, "w2", HIDDEN, HIDDEN), _weight(rng, "b2", HIDDEN),
        _weight(rng, "w3", HIDDEN, HIDDEN), _weight(rng, "b3", HIDDEN),
        _weight(rng, "w4", HIDDEN, CLASSES), _weight(rng, "b4", CLASSES),
        numpy_helper.from_array(np.array([1e-6], dtype=np.float32), "eps"),
    ]
    nodes = [
        helper.make_node("MatMul", ["pf_features", "w1"], ["h1m"]),
        helper.make_node("Add", ["h1m", "b1"], ["h1a"]),
        helper.make_node("Relu", ["h1a"], ["h1"]),
        helper.make_node("MatMul", ["h1", "w2"], ["h2m"]),
        helper.make_node("Add", ["h2m", "b2"], ["h2a"]),
        helper.make_node("Relu", ["h2a"], ["h2"]),
        helper.make_node("Mul", ["h2", "pf_mask"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["pf_mask", "axis1"], ["count"], keepdims=0),
        helper.make_node("Add", ["count", "eps"], ["count_eps"]),
        helper.make_node("Div", ["summed", "count_eps"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "w3"], ["h3m"]),
        helper.make_node("Add", ["h3m", "b3"], ["h3a"]),
        helper.make_node("Relu", ["h3a"], ["h3"]),
        helper.make_node("MatMul", ["h3", "w4"], ["logits_m"]),
        helper.make_node("Add", ["logits_m", "b4"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["softmax"], axis=-1),
    ]
    weights.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"))
    graph = helper.make_graph(
        nodes,
        "particlenet_like",
        [
            helper.make_tensor_value_info("pf_features", TensorProto.FLOAT,
                                          ["batch", "particles", FEATURES]),
            helper.make_tensor_value_info("pf_mask", TensorProto.FLOAT,
                                          ["batch", "particles", 1]),
        ],
        [helper.make_tensor_value_info("softmax", TensorProto.FLOAT, ["batch", CLASSES])],
        initializer=weights,
    )
    return _finish(graph)


def doubler():
    """INT64 x [N] -> y = 2x [N], no batch dimension."""
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"])],
        "doubler",
        [helper.make_tensor_value_info("x", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, ["n"])],
        initializer=[numpy_helper.from_array(np.array([2], dtype=np.int64), "two")],
    )
    return _finish(graph)


def string_identity():
    """BYTES text [B, 2] -> same [B, 2]."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["text"], ["same"])],
        "string_identity",
        [helper.make_tensor_value_info("text", TensorProto.STRING, ["batch", 2])],
        [helper.make_tensor_value_info("same", TensorProto.STRING, ["batch", 2])],
    )
    return _finish(graph)


def _finish(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # Readable by every onnxruntime since 1.10.
    onnx.checker.check_model(model)
    return model


def particlenet_inputs(batch, particles, seed=0):
    """Inputs for particlenet_like: random features, the last particles of each event masked out."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((batch, particles, FEATURES)).astype(np.float32)
    mask = np.ones((batch, particles, 1), dtype=np.float32)
    for event in range(batch):
        mask[event, rng.integers(1, particles + 1):, 0] = 0.0
    return {"pf_features": features, "pf_mask": mask}


def write_particlenet(repository, name, instances=1, extra=""):
    """Writes model `name` (version 1) into `repository`; returns the model file's path."""
    version = repository / name / "1"
    version.mkdir(parents=True)
    onnx.save(particlenet_like(), str(version / "model.onnx"))
    (repository / name / "config.pbtxt").write_text(PARTICLENET_CONFIG.format(
        name=name, features=FEATURES, classes=CLASSES, instances=instances, extra=extra))
    return version / "model.onnx"
