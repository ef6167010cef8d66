"""The server's side of Triton's Python model API, called by libsonic_backend_python.so.

The plugin calls check_model when a model version loads, Instance(...) once per model instance,
Instance.execute once per batch and Instance.finalize when the instance goes. Every user-code
failure of execute becomes an error result carrying Python's traceback; errors of check_model
and Instance(...) propagate as exceptions (the plugin reports them with their traceback).
"""

import importlib.util
import json
import os
import sys
import traceback

import numpy as np

import triton_python_backend_utils as pb_utils

# TritonError codes -> gRPC / absl status codes.
_STATUS_CODES = {
    pb_utils.TritonError.UNKNOWN: 2,
    pb_utils.TritonError.INTERNAL: 13,
    pb_utils.TritonError.NOT_FOUND: 5,
    pb_utils.TritonError.INVALID_ARG: 3,
    pb_utils.TritonError.UNAVAILABLE: 14,
    pb_utils.TritonError.UNSUPPORTED: 12,
    pb_utils.TritonError.ALREADY_EXISTS: 6,
    pb_utils.TritonError.CANCELLED: 1,
}
_INTERNAL = 13

# int64 fields of inference.ModelConfig, which protobuf's JSON writes as strings; Triton's
# model_config JSON has them as numbers.
_INT64_FIELDS = {
    "dims", "shape", "max_queue_delay_microseconds", "default_queue_policy_timeout_microseconds",
    "default_timeout_microseconds", "max_sequence_idle_microseconds",
    "preferred_batch_size", "max_queue_size", "count", "gpus", "version", "versions",
    "num_versions",
}


def _numbers(value, key=None):
    if isinstance(value, dict):
        return {k: _numbers(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v, key) for v in value]
    if isinstance(value, str) and key in _INT64_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value
    return value


def model_config_json(config_json):
    """The model configuration as Triton hands it to a Python model: JSON with numeric int64s."""
    return json.dumps(_numbers(json.loads(config_json)))


def _load_module(path, module_name):
    directory = os.path.dirname(path)
    # As Triton's stub: modules beside model.py are importable from it.
    if directory not in sys.path:
        sys.path.append(directory)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    model_class = getattr(module, "TritonPythonModel", None)
    if not isinstance(model_class, type):
        sys.modules.pop(module_name, None)
        raise AttributeError(f"{path} defines no class TritonPythonModel")
    if not callable(getattr(model_class, "execute", None)):
        sys.modules.pop(module_name, None)
        raise AttributeError(f"{path}: TritonPythonModel has no execute method")
    return module


def check_model(path, module_name, config_json):
    """Imports model.py once (then forgets it) and runs its auto_complete_config, if any, on the
    served configuration. The configuration is fixed before the model loads, so a completion
    that changes max_batch_size or adds inputs or outputs is refused, naming what to write in
    config.pbtxt; one that agrees with config.pbtxt passes."""
    module = _load_module(path, module_name)
    try:
        complete = getattr(module.TritonPythonModel, "auto_complete_config", None)
        if complete is None:
            return
        config = json.loads(model_config_json(config_json))
        original = json.loads(json.dumps(config))
        completed = complete(pb_utils.ModelConfig(config))
        if isinstance(completed, pb_utils.ModelConfig):
            completed = completed.as_dict()
        if not isinstance(completed, dict):
            raise TypeError("auto_complete_config must return the pb_utils.ModelConfig it was given")
        _check_completion(original, completed)
    finally:
        sys.modules.pop(module_name, None)


def _check_completion(original, completed):
    changes = []
    if completed.get("max_batch_size", 0) != original.get("max_batch_size", 0):
        changes.append(f"max_batch_size {completed.get('max_batch_size')}")
    for kind in ("input", "output"):
        known = {entry.get("name") for entry in original.get(kind, [])}
        for entry in completed.get(kind, []):
            if entry.get("name") not in known:
                changes.append(f"{kind} '{entry.get('name')}'")
    if changes:
        raise ValueError(
            "auto_complete_config adds " + ", ".join(changes) + ", but sonic-server serves the "
            "configuration of config.pbtxt as written: add them there")


class Instance:
    """One model instance: its own import of model.py and its own TritonPythonModel object, as a
    Triton stub process has."""

    def __init__(self, path, module_name, args):
        self._module_name = module_name
        self._model_name = args.get("model_name", "")
        args = dict(args)
        args["model_config"] = model_config_json(args["model_config"])
        module = _load_module(path, module_name)
        try:
            self._model = module.TritonPythonModel()
            initialize = getattr(self._model, "initialize", None)
            if initialize is not None:
                initialize(args)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise

    def execute(self, batch):
        """Runs TritonPythonModel.execute on `batch`, a list of (request id, [(input name, numpy
        array)], [requested output names]). Returns one result per request, in order: (0, "",
        [(output name, numpy array)]) or (status code, message, None)."""
        requests = []
        for request_id, inputs, output_names in batch:
            tensors = [pb_utils.Tensor(name, _copy_input(array)) for name, array in inputs]
            requests.append(pb_utils.InferenceRequest(
                request_id=request_id, inputs=tensors, requested_output_names=output_names,
                model_name=self._model_name))
        try:
            responses = self._model.execute(requests)
        except BaseException as error:
            # The traceback from model.py's execute on: this module's frame says nothing.
            frames = error.__traceback__.tb_next if error.__traceback__ else None
            report = "".join(traceback.format_exception(type(error), error, frames)).rstrip()
            message = "model.py execute raised an exception: " + report
            return [(_INTERNAL, message, None)] * len(batch)
        problem = _check_responses(responses, len(batch))
        if problem is not None:
            return [(_INTERNAL, problem, None)] * len(batch)
        return [_result(response) for response in responses]

    def finalize(self):
        """Calls TritonPythonModel.finalize (if any) and forgets the instance's module. A failure
        is printed to stderr: there is no one else to tell."""
        try:
            finalize = getattr(self._model, "finalize", None)
            if finalize is not None:
                finalize()
        except BaseException:
            print(f"model '{self._model_name}': finalize raised an exception:\n"
                  f"{traceback.format_exc()}", file=sys.stderr, flush=True)
        finally:
            sys.modules.pop(self._module_name, None)
            self._model = None


def _check_responses(responses, count):
    if not isinstance(responses, (list, tuple)):
        return (f"model.py execute returned {type(responses).__name__}, expected a list of "
                f"{count} pb_utils.InferenceResponse")
    if len(responses) != count:
        return (f"model.py execute returned {len(responses)} responses for {count} requests "
                f"(one response per request, in order)")
    for index, response in enumerate(responses):
        if not isinstance(response, pb_utils.InferenceResponse):
            return (f"model.py execute returned {type(response).__name__} as response {index}, "
                    f"expected a pb_utils.InferenceResponse")
    return None


def _result(response):
    if response.has_error():
        error = response.error()
        return (_STATUS_CODES.get(error.code(), _INTERNAL), error.message(), None)
    return (0, "", [(tensor.name(), tensor.as_numpy()) for tensor in response.output_tensors()])


def _copy_input(array):
    """A writable copy of a request's input array owned by Python (the request's memory goes away
    when execute returns); object (BYTES) arrays are already Python's."""
    return array if array.dtype == np.object_ else np.array(array, copy=True)
