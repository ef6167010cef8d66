"""The demonstrator's models as ONNX graphs and a TensorFlow GraphDef, with the weights that
`sonic models generate` drew for their TorchScript versions (model_zoo.cc).

Run by the generator with the project's virtual environment:

    python export_models.py --weights DIR --out REPOSITORY --result FILE [--formats onnx,tensorflow]

DIR holds, per weight set (particlenet, deepmet, deeptau), <set>.json ({"parameters": [{"name",
"shape"}, ...]} in the order of <set>.bin, little-endian float32, row-major). Each model file goes
to REPOSITORY/<model>/1/ (the generator writes the config.pbtxt). FILE receives
{"written": {format: [model, ...]}, "skipped": {format: reason}}: a format whose Python package
cannot be imported is skipped with the import's reason; any other failure is an error (exit 1).

The graphs compute what the TorchScript methods of model_zoo.cc compute, op for op:
- particlenet_padded_onnx / particlenet_ragged_onnx: EdgeConv's kNN as TopK (smallest k + 1
  distances, the point itself dropped) and the neighbours gathered from the flattened batch; the
  ragged variant pads its jets with Gather over a zero row (what TorchScript's index_put_ leaves);
- deepmet_onnx / deepmet_tf: the per-event sum as ScatterND(add) / unsorted_segment_sum;
- deeptau_onnx: Conv in NCHW as torch.conv2d.
Ragged inputs and batch inputs arrive flat (the server concatenates them): 1-D, as in Triton.
"""

import argparse
import json
import os
import pathlib
import sys
import traceback

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

COORDINATES = 2
FEATURES = 16
NEIGHBOURS = 16
DEEPMET_CONTINUOUS = 6
DEEPMET_CATEGORICAL = 3
ONNX_OPSET = 17


def read_weights(directory, name):
    manifest = json.loads((directory / f"{name}.json").read_text())
    data = np.fromfile(directory / f"{name}.bin", dtype="<f4")
    weights, offset = {}, 0
    for parameter in manifest["parameters"]:
        shape = tuple(parameter["shape"])
        size = int(np.prod(shape)) if shape else 1
        weights[parameter["name"]] = data[offset:offset + size].reshape(shape).astype(np.float32)
        offset += size
    if offset != data.size:
        raise ValueError(f"{name}.bin holds {data.size} floats, its manifest {offset}")
    return weights


# --------------------------------------------------------------------------------------- ONNX


class OnnxGraph:
    """Nodes, initializers and fresh names for one onnx.helper graph."""

    def __init__(self, onnx, weights):
        self.onnx = onnx
        self.helper = onnx.helper
        self.nodes = []
        self.initializers = []
        self.count = 0
        for name, value in weights.items():
            self.initializers.append(onnx.numpy_helper.from_array(value, name))

    def const(self, value, dtype=np.int64):
        name = self.fresh("const")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(value, dtype), name))
        return name

    def fresh(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def op(self, op_type, *inputs, outputs=1, **attributes):
        names = [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names, **attributes))
        return names[0] if outputs == 1 else names

    def dense(self, x, prefix, relu=True):
        y = self.op("Add", self.op("MatMul", x, f"{prefix}_w"), f"{prefix}_b")
        return self.op("Relu", y) if relu else y

    def dim(self, x, axis):
        """Dimension `axis` of x as a 1-D int64 tensor of one element."""
        return self.op("Gather", self.op("Shape", x), self.const([axis]), axis=0)

    def reduce_sum(self, x, axis, keepdims):
        return self.op("ReduceSum", x, self.const([axis]), keepdims=keepdims)

    def save(self, name, inputs, outputs, path):
        helper = self.helper
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
            producer_name="sonic models generate",
        )
        model.ir_version = 8
        self.onnx.checker.check_model(model)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.onnx.save(model, str(path))


def onnx_edge_conv(g, points, x, mask, block):
    """model_zoo.cc's edge_conv: points [B, P, 2], x [B, P, C], mask [B, P, 1]."""
    shortcut = g.dense(x, f"{block}s", relu=False)
    batch, width, channels = g.dim(x, 0), g.dim(x, 1), g.dim(x, 2)
    k = g.op("Min", g.const([NEIGHBOURS]), g.op("Sub", width, g.const([1])))
    one = g.const(1.0, np.float32)
    shifted = g.op("Add", points, g.op("Mul", g.op("Sub", one, mask), g.const(1.0e9, np.float32)))
    diff = g.op("Sub", g.op("Unsqueeze", shifted, g.const([2])),
                g.op("Unsqueeze", shifted, g.const([1])))
    dist = g.reduce_sum(g.op("Mul", diff, diff), 3, keepdims=0)
    _, nearest = g.op("TopK", dist, g.op("Add", k, g.const([1])), outputs=2, axis=2, largest=0,
                      sorted=1)
    idx = g.op("Slice", nearest, g.const([1]), g.const([np.iinfo(np.int64).max]), g.const([2]))
    rows = g.op("Mul", g.op("Range", g.const(0), g.op("Squeeze", batch), g.const(1)), width)
    flat = g.op("Reshape", g.op("Add", idx, g.op("Reshape", rows, g.const([-1, 1, 1]))),
                g.const([-1]))
    # k is 0 for a jet of one constituent: the shapes below then hold a 0 (hence allowzero), the
    # neighbour sums are 0 and the block gives relu(shortcut), as TorchScript's early return.
    grid = g.op("Concat", batch, width, k, channels, axis=0)
    neighbours = g.op("Reshape",
                      g.op("Gather", g.op("Reshape", x, g.op("Concat", g.const([-1]), channels,
                                                             axis=0)), flat, axis=0), grid,
                      allowzero=1)
    centre = g.op("Expand", g.op("Unsqueeze", x, g.const([2])), grid)
    h = g.op("Concat", centre, g.op("Sub", neighbours, centre), axis=3)
    for layer in "abc":
        h = g.dense(h, f"{block}{layer}")
    real = g.op("Reshape", g.op("Gather", g.op("Reshape", mask, g.const([-1, 1])), flat, axis=0),
                g.op("Concat", batch, width, k, g.const([1]), axis=0), allowzero=1)
    agg = g.op("Div", g.reduce_sum(g.op("Mul", h, real), 2, keepdims=0),
               g.op("Max", g.reduce_sum(real, 2, keepdims=0), one))
    return g.op("Mul", g.op("Relu", g.op("Add", agg, shortcut)), mask)


def onnx_classify(g, points, features, mask):
    x = onnx_edge_conv(g, points, features, mask, "ec1")
    x = onnx_edge_conv(g, points, x, mask, "ec2")
    pooled = g.op("Div", g.reduce_sum(g.op("Mul", x, mask), 1, keepdims=0),
                  g.op("Max", g.reduce_sum(mask, 1, keepdims=0), g.const(1.0, np.float32)))
    h = g.dense(pooled, "fc1")
    return g.op("Softmax", g.dense(h, "fc2", relu=False), axis=1)


def onnx_particlenet(onnx, weights, ragged, path):
    g = OnnxGraph(onnx, weights)
    tensor = onnx.helper.make_tensor_value_info
    floats = onnx.TensorProto.FLOAT
    if ragged:
        inputs = [tensor("pf_points", floats, ["elements"]),
                  tensor("pf_features", floats, ["feature_elements"]),
                  tensor("jet_offsets", onnx.TensorProto.INT32, ["jets_plus_one"])]
        points = g.op("Reshape", "pf_points", g.const([-1, COORDINATES]))
        features = g.op("Reshape", "pf_features", g.const([-1, FEATURES]))
        offsets = g.op("Div", g.op("Cast", "jet_offsets", to=onnx.TensorProto.INT64),
                       g.const([COORDINATES]))
        end = g.const([np.iinfo(np.int64).max])
        starts = g.op("Slice", offsets, g.const([0]), g.const([-1]))
        counts = g.op("Sub", g.op("Slice", offsets, g.const([1]), end), starts)
        width = g.op("Max", g.op("ReduceMax", counts, keepdims=1), g.const([1]))
        slot = g.op("Range", g.const(0), g.op("Squeeze", width), g.const(1))
        index = g.op("Add", g.op("Unsqueeze", starts, g.const([1])),
                     g.op("Unsqueeze", slot, g.const([0])))
        valid = g.op("Less", g.op("Unsqueeze", slot, g.const([0])),
                     g.op("Unsqueeze", counts, g.const([1])))
        # Empty slots read row n, a row of zeros appended below the constituents.
        safe = g.op("Where", valid, index, g.dim(points, 0))
        zero_row = g.const(np.zeros([1, COORDINATES]), np.float32)
        padded_points = g.op("Gather", g.op("Concat", points, zero_row, axis=0), safe, axis=0)
        zero_row = g.const(np.zeros([1, FEATURES]), np.float32)
        padded_features = g.op("Gather", g.op("Concat", features, zero_row, axis=0), safe, axis=0)
        mask = g.op("Unsqueeze", g.op("Cast", valid, to=floats), g.const([2]))
        scores = onnx_classify(g, padded_points, padded_features, mask)
    else:
        inputs = [tensor("pf_points", floats, ["batch", COORDINATES, "slots"]),
                  tensor("pf_features", floats, ["batch", FEATURES, "slots"]),
                  tensor("pf_mask", floats, ["batch", 1, "slots"])]
        transposed = [g.op("Transpose", name, perm=[0, 2, 1])
                      for name in ("pf_points", "pf_features", "pf_mask")]
        scores = onnx_classify(g, *transposed)
    g.nodes.append(onnx.helper.make_node("Identity", [scores], ["scores"]))
    g.save("particlenet", inputs, [tensor("scores", floats, ["batch", 5])], path)


def onnx_deepmet(onnx, weights, path):
    g = OnnxGraph(onnx, weights)
    tensor = onnx.helper.make_tensor_value_info
    floats, int64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    cont = g.op("Reshape", "pf_cont", g.const([-1, DEEPMET_CONTINUOUS]))
    cat = g.op("Cast", g.op("Reshape", "pf_cat", g.const([-1, DEEPMET_CATEGORICAL])), to=int64)
    offsets = g.op("Div", g.op("Cast", "event_offsets", to=int64), g.const([DEEPMET_CATEGORICAL]))
    events = g.op("Sub", g.dim(offsets, 0), g.const([1]))

    def column(x, index):
        return g.op("Gather", x, g.const(index), axis=1)

    def scaled(x, factor):
        return g.op("Mul", x, g.const(factor, np.float32))

    pt, phi = column(cont, 0), column(cont, 2)
    continuous = [g.op("Log", g.op("Add", pt, g.const(1.0, np.float32))),
                  g.op("Div", column(cont, 1), g.const(2.5, np.float32)), column(cont, 3),
                  g.op("Tanh", scaled(column(cont, 4), 50.0)),
                  g.op("Tanh", scaled(column(cont, 5), 10.0))]
    x = g.op("Concat", *[g.op("Unsqueeze", c, g.const([1])) for c in continuous],
             g.op("Gather", "charge_table", column(cat, 0), axis=0),
             g.op("Gather", "type_table", column(cat, 1), axis=0),
             g.op("Gather", "pv_table", column(cat, 2), axis=0), axis=1)
    h = g.dense(g.dense(x, "fc1"), "fc2")
    w = g.op("Reshape", g.op("Sigmoid", g.dense(h, "out", relu=False)), g.const([-1]))
    # The event of each candidate: a 1 at each later event's first candidate, accumulated.
    candidates = g.dim(cont, 0)
    firsts = g.op("Slice", offsets, g.const([1]), g.const([-1]))
    marks = g.op("ScatterND", g.op("ConstantOfShape", g.op("Add", candidates, g.const([1])),
                                   value=onnx.numpy_helper.from_array(np.array([0], np.int64))),
                 g.op("Unsqueeze", firsts, g.const([1])),
                 g.op("Expand", g.const([1]), g.op("Shape", firsts)), reduction="add")
    event = g.op("Slice", g.op("CumSum", marks, g.const(0)), g.const([0]), candidates)
    p = g.op("Concat", g.op("Unsqueeze", g.op("Mul", g.op("Mul", w, pt), g.op("Cos", phi)),
                            g.const([1])),
             g.op("Unsqueeze", g.op("Mul", g.op("Mul", w, pt), g.op("Sin", phi)), g.const([1])),
             axis=1)
    zeros = g.op("ConstantOfShape", g.op("Concat", events, g.const([2]), axis=0),
                 value=onnx.numpy_helper.from_array(np.array([0], np.float32)))
    met = g.op("ScatterND", zeros, g.op("Unsqueeze", event, g.const([1])), g.op("Neg", p),
               reduction="add")
    g.nodes.append(onnx.helper.make_node("Identity", [met], ["met"]))
    g.nodes.append(onnx.helper.make_node("Identity", [w], ["weights"]))
    inputs = [tensor("pf_cont", floats, ["continuous_elements"]),
              tensor("pf_cat", floats, ["categorical_elements"]),
              tensor("event_offsets", onnx.TensorProto.INT32, ["events_plus_one"])]
    g.save("deepmet", inputs, [tensor("met", floats, ["events", 2]),
                               tensor("weights", floats, ["candidates"])], path)


def tower_layers(weights, name):
    layers = 0
    while f"{name}{layers + 1}_w" in weights:
        layers += 1
    return layers


def onnx_deeptau(onnx, weights, path):
    g = OnnxGraph(onnx, weights)
    tensor = onnx.helper.make_tensor_value_info
    floats = onnx.TensorProto.FLOAT
    t = g.dense("tau_features", "tau")
    towers = []
    for name in ("inner", "outer"):
        x = g.op("Transpose", f"{name}_grid", perm=[0, 3, 1, 2])
        for layer in range(tower_layers(weights, name) + 1):
            x = g.op("Relu", g.op("Conv", x, f"{name}{layer}_w", f"{name}{layer}_b"))
        towers.append(g.op("Flatten", x, axis=1))
    h = g.dense(g.op("Concat", t, *towers, axis=1), "fc1")
    scores = g.op("Softmax", g.dense(h, "fc2", relu=False), axis=1)
    g.nodes.append(onnx.helper.make_node("Identity", [scores], ["scores"]))
    inner, outer = weights["inner0_w"].shape[1], weights["outer0_w"].shape[1]
    inputs = [tensor("tau_features", floats, ["batch", weights["tau_w"].shape[0]]),
              tensor("inner_grid", floats, ["batch", 11, 11, inner]),
              tensor("outer_grid", floats, ["batch", 21, 21, outer])]
    g.save("deeptau", inputs, [tensor("scores", floats, ["batch", weights["fc2_w"].shape[1]])],
           path)


def export_onnx(weights_dir, out):
    import onnx  # noqa: PLC0415 (only when this format is asked for)
    import onnx.numpy_helper  # noqa: F401,PLC0415

    particlenet = read_weights(weights_dir, "particlenet")
    onnx_particlenet(onnx, particlenet, False, out / "particlenet_padded_onnx" / "1" / "model.onnx")
    onnx_particlenet(onnx, particlenet, True, out / "particlenet_ragged_onnx" / "1" / "model.onnx")
    onnx_deepmet(onnx, read_weights(weights_dir, "deepmet"),
                 out / "deepmet_onnx" / "1" / "model.onnx")
    onnx_deeptau(onnx, read_weights(weights_dir, "deeptau"),
                 out / "deeptau_onnx" / "1" / "model.onnx")
    return ["particlenet_padded_onnx", "particlenet_ragged_onnx", "deepmet_onnx", "deeptau_onnx"]


# --------------------------------------------------------------------------------- TensorFlow


def export_tensorflow(weights_dir, out):
    import tensorflow as tf  # noqa: PLC0415 (slow to import: only when asked for)

    graph = tf.Graph()
    with graph.as_default():
        w = {name: tf.constant(value, name=name)
             for name, value in read_weights(weights_dir, "deepmet").items()}
        pf_cont = tf.compat.v1.placeholder(tf.float32, [None], "pf_cont")
        pf_cat = tf.compat.v1.placeholder(tf.float32, [None], "pf_cat")
        event_offsets = tf.compat.v1.placeholder(tf.int32, [None], "event_offsets")
        cont = tf.reshape(pf_cont, [-1, DEEPMET_CONTINUOUS])
        cat = tf.cast(tf.reshape(pf_cat, [-1, DEEPMET_CATEGORICAL]), tf.int64)
        offsets = tf.math.floordiv(tf.cast(event_offsets, tf.int64), DEEPMET_CATEGORICAL)
        counts = offsets[1:] - offsets[:-1]
        pt, phi = cont[:, 0], cont[:, 2]
        x = tf.stack([tf.math.log1p(pt), cont[:, 1] / 2.5, cont[:, 3],
                      tf.tanh(cont[:, 4] * 50.0), tf.tanh(cont[:, 5] * 10.0)], axis=1)
        x = tf.concat([x, tf.gather(w["charge_table"], cat[:, 0]),
                       tf.gather(w["type_table"], cat[:, 1]),
                       tf.gather(w["pv_table"], cat[:, 2])], axis=1)
        h = tf.nn.relu(tf.matmul(x, w["fc1_w"]) + w["fc1_b"])
        h = tf.nn.relu(tf.matmul(h, w["fc2_w"]) + w["fc2_b"])
        weights = tf.reshape(tf.sigmoid(tf.matmul(h, w["out_w"]) + w["out_b"]), [-1])
        events = tf.shape(counts, out_type=tf.int64)[0]
        event = tf.repeat(tf.range(events), counts)
        p = tf.stack([weights * pt * tf.cos(phi), weights * pt * tf.sin(phi)], axis=1)
        tf.identity(tf.math.unsorted_segment_sum(-p, event, events), name="met")
        tf.identity(weights, name="weights")
    path = out / "deepmet_tf" / "1" / "model.graphdef"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(graph.as_graph_def().SerializeToString())
    return ["deepmet_tf"]


EXPORTERS = {"onnx": (export_onnx, "onnx"), "tensorflow": (export_tensorflow, "tensorflow")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--result", required=True, type=pathlib.Path)
    parser.add_argument("--formats", default="onnx,tensorflow")
    args = parser.parse_args()
    result = {"written": {}, "skipped": {}}
    for fmt in args.formats.split(","):
        if fmt not in EXPORTERS:
            parser.error(f"unknown format '{fmt}' (onnx, tensorflow)")
        exporter, package = EXPORTERS[fmt]
        try:
            __import__(package)
        except Exception as error:  # noqa: BLE001 (any import failure means: not available)
            result["skipped"][fmt] = (f"the Python package '{package}' cannot be imported by "
                                      f"{sys.executable}: {type(error).__name__}: {error}")
            continue
        try:
            result["written"][fmt] = exporter(args.weights, args.out)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            print(f"export_models.py: writing the {fmt} models failed", file=sys.stderr)
            return 1
    args.result.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
