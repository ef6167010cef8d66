"""TensorFlow models of the tensorflow backend's tests and benchmark, written with real TensorFlow.

Each writer builds a small model with deterministic random weights (numpy, fixed seed), writes it
in Triton's layout (<repository>/<model>/config.pbtxt and <repository>/<model>/1/<file>) and
returns a callable running the same model in this process, the reference the tests compare
sonic-server's outputs with.

- DeepMET-like GraphDef (`tensorflow_graphdef`): per event a variable number of particle-flow
  candidates with continuous features ("input") and a categorical one ("input_cat0", through an
  embedding); a per-candidate network gives weights, the weighted candidate momenta are summed
  per event and a last dense layer ("output", so its result is the operation "output/BiasAdd",
  as in CMS's DeepMET configs) gives the two outputs. Batching: the event is the batch dimension.
- SavedModel (`tensorflow_savedmodel`): a tf.Module with variables and a serving signature whose
  keys ("features", "scale"; "score", "hidden") differ from the graph's tensor names.
- A small MLP GraphDef for the benchmark.
- A GraphDef with a TF1 variable, usable only after its init op runs (TF_INIT_OPS_FILE).
"""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

DEEPMET_FEATURES = 6
DEEPMET_CATEGORIES = 8
DEEPMET_EMBEDDING = 4


def _weights(rng, *shape):
    return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)


def _write_config(directory, text):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.pbtxt").write_text(text)
    (directory / "1").mkdir(exist_ok=True)


class GraphRunner:
    """Runs a GraphDef in this process with TensorFlow's own session (the reference)."""

    def __init__(self, graph_def, inputs, outputs, threads=0):
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.graph_util.import_graph_def(graph_def, name="")
        config = tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
        )
        self.session = tf.compat.v1.Session(graph=self.graph, config=config)
        self.inputs = [self.graph.get_tensor_by_name(name + ":0") for name in inputs]
        self.outputs = [self.graph.get_tensor_by_name(name + ":0") for name in outputs]

    def __call__(self, *arrays):
        return self.session.run(self.outputs, dict(zip(self.inputs, arrays)))


def write_deepmet_graphdef(repository, name="deepmet_tf", max_batch_size=16, seed=1,
                           dynamic_batching=False):
    """DeepMET-like GraphDef; returns a GraphRunner(input, input_cat0) -> [output/BiasAdd]."""
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        features = tf.compat.v1.placeholder(tf.float32, [None, None, DEEPMET_FEATURES], "input")
        categories = tf.compat.v1.placeholder(tf.int32, [None, None], "input_cat0")
        embedding = tf.constant(_weights(rng, DEEPMET_CATEGORIES, DEEPMET_EMBEDDING))
        embedded = tf.gather(embedding, categories, name="embedding")
        x = tf.concat([features, embedded], axis=-1)
        w1 = tf.constant(_weights(rng, DEEPMET_FEATURES + DEEPMET_EMBEDDING, 16))
        hidden = tf.nn.relu(tf.tensordot(x, w1, axes=1) + tf.constant(_weights(rng, 16)))
        w2 = tf.constant(_weights(rng, 16, 1))
        weight = tf.sigmoid(tf.tensordot(hidden, w2, axes=1))  # [events, candidates, 1]
        # Features 0 and 1 stand for the candidate's px and py.
        met = tf.reduce_sum(weight * features[:, :, 0:2], axis=1)  # [events, 2]
        with tf.name_scope("output"):
            product = tf.matmul(met, tf.constant(_weights(rng, 2, 2)), name="MatMul")
            tf.nn.bias_add(product, tf.constant(_weights(rng, 2)), name="BiasAdd")
    graph_def = graph.as_graph_def()
    directory = pathlib.Path(repository) / name
    _write_config(
        directory,
        f"""name: "{name}"
platform: "tensorflow_graphdef"
max_batch_size: {max_batch_size}
input [
  {{ name: "input" data_type: TYPE_FP32 dims: [ -1, {DEEPMET_FEATURES} ] }},
  {{ name: "input_cat0" data_type: TYPE_INT32 dims: [ -1 ] }}
]
output [ {{ name: "output/BiasAdd" data_type: TYPE_FP32 dims: [ 2 ] }} ]
parameters {{ key: "TF_NUM_INTRA_THREADS" value {{ string_value: "1" }} }}
parameters {{ key: "TF_NUM_INTER_THREADS" value {{ string_value: "1" }} }}
{"dynamic_batching { max_queue_delay_microseconds: 20000 }" if dynamic_batching else ""}
""",
    )
    (directory / "1" / "model.graphdef").write_bytes(graph_def.SerializeToString())
    return GraphRunner(graph_def, ["input", "input_cat0"], ["output/BiasAdd"], threads=1)


class ScoreModule(tf.Module):
    def __init__(self, rng):
        super().__init__()
        self.w1 = tf.Variable(_weights(rng, 5, 8), name="w1")
        self.b1 = tf.Variable(_weights(rng, 8), name="b1")
        self.w2 = tf.Variable(_weights(rng, 8, 3), name="w2")

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, 5], tf.float32, name="features"),
            tf.TensorSpec([None, 1], tf.float32, name="scale"),
        ]
    )
    def serve(self, features, scale):
        hidden = tf.nn.tanh(tf.tensordot(features, self.w1, axes=1) + self.b1)
        pooled = tf.reduce_mean(hidden, axis=1)
        return {"score": tf.matmul(pooled, self.w2) * scale, "hidden": hidden}


def write_savedmodel(repository, name="scorer_tf", max_batch_size=8, seed=2):
    """A SavedModel with variables; returns f(features, scale) -> [score, hidden] as numpy."""
    module = ScoreModule(np.random.default_rng(seed))
    directory = pathlib.Path(repository) / name
    _write_config(
        directory,
        f"""name: "{name}"
platform: "tensorflow_savedmodel"
max_batch_size: {max_batch_size}
input [
  {{ name: "features" data_type: TYPE_FP32 dims: [ -1, 5 ] }},
  {{ name: "scale" data_type: TYPE_FP32 dims: [ 1 ] }}
]
output [
  {{ name: "score" data_type: TYPE_FP32 dims: [ 3 ] }},
  {{ name: "hidden" data_type: TYPE_FP32 dims: [ -1, 8 ] }}
]
""",
    )
    tf.saved_model.save(
        module,
        str(directory / "1" / "model.savedmodel"),
        signatures={"serving_default": module.serve},
    )

    def run(features, scale):
        result = module.serve(tf.constant(features), tf.constant(scale))
        return [result["score"].numpy(), result["hidden"].numpy()]

    return run


def write_mlp_graphdef(repository, name="mlp_tf", width=32, hidden=128, outputs=8, seed=3,
                       threads=1, max_batch_size=64):
    """A small MLP GraphDef (INPUT0 [width] -> OUTPUT0 [outputs]); returns its GraphRunner."""
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, width], "INPUT0")
        for index, (fan_in, fan_out) in enumerate([(width, hidden), (hidden, hidden)]):
            x = tf.nn.relu(
                tf.matmul(x, tf.constant(_weights(rng, fan_in, fan_out))) + _weights(rng, fan_out),
                name=f"dense{index}",
            )
        tf.identity(tf.matmul(x, tf.constant(_weights(rng, hidden, outputs))), name="OUTPUT0")
    graph_def = graph.as_graph_def()
    directory = pathlib.Path(repository) / name
    _write_config(
        directory,
        f"""name: "{name}"
platform: "tensorflow_graphdef"
max_batch_size: {max_batch_size}
input [ {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ {width} ] }} ]
output [ {{ name: "OUTPUT0:0" data_type: TYPE_FP32 dims: [ {outputs} ] }} ]
parameters {{ key: "TF_NUM_INTRA_THREADS" value {{ string_value: "{threads}" }} }}
parameters {{ key: "TF_NUM_INTER_THREADS" value {{ string_value: "{threads}" }} }}
""",
    )
    (directory / "1" / "model.graphdef").write_bytes(graph_def.SerializeToString())
    return GraphRunner(graph_def, ["INPUT0"], ["OUTPUT0"], threads=threads)


def write_init_ops_graphdef(repository, name="scaled_tf", width=4, seed=4):
    """x * v with v a TF1 variable set by the init op "init", named in init_ops.json; returns
    f(x) -> [y] computed by TensorFlow after running the init op itself."""
    weights = _weights(np.random.default_rng(seed), width)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, width], "x")
        variable = tf.compat.v1.Variable(weights, name="v", use_resource=False)
        tf.identity(x * variable, name="y")
        tf.compat.v1.variables_initializer([variable], name="init")
    graph_def = graph.as_graph_def()
    directory = pathlib.Path(repository) / name
    _write_config(
        directory,
        f"""name: "{name}"
platform: "tensorflow_graphdef"
max_batch_size: 8
input [ {{ name: "x" data_type: TYPE_FP32 dims: [ {width} ] }} ]
output [ {{ name: "y" data_type: TYPE_FP32 dims: [ {width} ] }} ]
parameters {{ key: "TF_INIT_OPS_FILE" value {{ string_value: "init_ops.json" }} }}
""",
    )
    (directory / "1" / "model.graphdef").write_bytes(graph_def.SerializeToString())
    (directory / "1" / "init_ops.json").write_text('{"init_ops": ["init"]}\n')
    runner = GraphRunner(graph_def, ["x"], ["y"])
    runner.session.run(runner.graph.get_operation_by_name("init"))
    return runner
