"""The module a Triton Python model imports as `triton_python_backend_utils` (usually as pb_utils).

sonic-server's implementation of Triton's Python model API: requests, responses, tensors and
errors as numpy-backed Python objects, plus the helpers model.py files commonly call. Requests
are built by sonic_python_runtime (the server's side of the API); a model builds Tensor,
InferenceResponse and TritonError objects.

What sonic-server does not offer raises TritonModelException when called: business logic
scripting (InferenceRequest.exec), decoupled response senders, DLPack exchange.
"""

import json

import numpy as np

# Flags of Triton's decoupled and rescheduling APIs, for models that name them.
TRITONSERVER_RESPONSE_COMPLETE_FINAL = 1
TRITONSERVER_REQUEST_RELEASE_ALL = 1
TRITONSERVER_REQUEST_RELEASE_RESCHEDULE = 2

# Triton's model-config data types (model_config.proto numbers) and their numpy types; BYTES
# (TYPE_STRING) tensors are numpy object arrays of bytes. BF16 has no numpy type.
_TYPES = {
    "TYPE_BOOL": (1, np.bool_),
    "TYPE_UINT8": (2, np.uint8),
    "TYPE_UINT16": (3, np.uint16),
    "TYPE_UINT32": (4, np.uint32),
    "TYPE_UINT64": (5, np.uint64),
    "TYPE_INT8": (6, np.int8),
    "TYPE_INT16": (7, np.int16),
    "TYPE_INT32": (8, np.int32),
    "TYPE_INT64": (9, np.int64),
    "TYPE_FP16": (10, np.float16),
    "TYPE_FP32": (11, np.float32),
    "TYPE_FP64": (12, np.float64),
    "TYPE_STRING": (13, np.object_),
}
_NUMPY_BY_NUMBER = {number: numpy_type for number, numpy_type in _TYPES.values()}


class TritonModelException(Exception):
    """Raised by this module when a model uses the API wrongly or asks for what is missing."""


class TritonError:
    """An error a model returns for one request: InferenceResponse(error=TritonError(...))."""

    UNKNOWN = 0
    INTERNAL = 1
    NOT_FOUND = 2
    INVALID_ARG = 3
    UNAVAILABLE = 4
    UNSUPPORTED = 5
    ALREADY_EXISTS = 6
    CANCELLED = 7

    def __init__(self, message, code=INTERNAL):
        if code not in range(TritonError.UNKNOWN, TritonError.CANCELLED + 1):
            raise TritonModelException(f"TritonError: unknown error code {code!r}")
        self._message = str(message)
        self._code = code

    def message(self):
        return self._message

    def code(self):
        return self._code

    def __repr__(self):
        return f"TritonError({self._message!r}, {self._code})"


class Tensor:
    """A named numpy array: an input of a request or an output of a response."""

    def __init__(self, name, array):
        if not isinstance(name, str):
            raise TritonModelException(f"Tensor name must be a str, got {type(name).__name__}")
        if not isinstance(array, np.ndarray):
            raise TritonModelException(
                f"Tensor '{name}' must be made from a numpy.ndarray, got {type(array).__name__}")
        self._name = name
        self._array = array

    def name(self):
        return self._name

    def as_numpy(self):
        return self._array

    def shape(self):
        return list(self._array.shape)

    def triton_dtype(self):
        return numpy_to_triton_type(self._array.dtype)

    def is_cpu(self):
        return True

    def to_dlpack(self):
        raise TritonModelException("sonic-server's Python backend has no DLPack exchange")

    @staticmethod
    def from_dlpack(name, capsule):
        raise TritonModelException("sonic-server's Python backend has no DLPack exchange")

    def __repr__(self):
        return f"Tensor({self._name!r}, shape={list(self._array.shape)}, dtype={self._array.dtype})"


class InferenceRequest:
    """One request of the batch handed to TritonPythonModel.execute."""

    def __init__(self, request_id="", inputs=(), requested_output_names=(), model_name="",
                 correlation_id=0, flags=0, parameters=None, **_ignored):
        self._request_id = request_id
        self._inputs = list(inputs)
        self._requested_output_names = list(requested_output_names)
        self._model_name = model_name
        self._correlation_id = correlation_id
        self._flags = flags
        self._parameters = parameters if parameters is not None else {}

    def inputs(self):
        return list(self._inputs)

    def request_id(self):
        return self._request_id

    def correlation_id(self):
        return self._correlation_id

    def requested_output_names(self):
        return list(self._requested_output_names)

    def model_name(self):
        return self._model_name

    def flags(self):
        return self._flags

    def parameters(self):
        return json.dumps(self._parameters)

    def is_cancelled(self):
        return False

    def set_release_flags(self, flags):
        raise TritonModelException("sonic-server does not reschedule requests")

    def get_response_sender(self):
        raise TritonModelException("sonic-server serves no decoupled models: no response sender")

    def exec(self, *args, **kwargs):
        raise TritonModelException(
            "sonic-server's Python backend has no business logic scripting (InferenceRequest.exec)")

    async_exec = exec


class InferenceResponse:
    """The answer to one request: output tensors, or an error."""

    def __init__(self, output_tensors=None, error=None, parameters=None):
        if error is not None and not isinstance(error, TritonError):
            raise TritonModelException(
                f"InferenceResponse error must be a TritonError, got {type(error).__name__}")
        tensors = list(output_tensors) if output_tensors is not None else []
        for tensor in tensors:
            if not isinstance(tensor, Tensor):
                raise TritonModelException(
                    f"InferenceResponse output_tensors must be Tensor objects, got "
                    f"{type(tensor).__name__}")
        self._output_tensors = tensors
        self._error = error
        self._parameters = parameters if parameters is not None else {}

    def output_tensors(self):
        return list(self._output_tensors)

    def has_error(self):
        return self._error is not None

    def error(self):
        return self._error

    def parameters(self):
        return json.dumps(self._parameters)


class ModelConfig:
    """The configuration TritonPythonModel.auto_complete_config receives and returns."""

    def __init__(self, model_config):
        self._config = model_config

    def as_dict(self):
        return self._config

    def set_max_batch_size(self, max_batch_size):
        self._config["max_batch_size"] = max_batch_size

    def set_dynamic_batching(self):
        self._config.setdefault("dynamic_batching", {})

    def set_model_transaction_policy(self, transaction_policy_dict):
        self._config["model_transaction_policy"] = dict(transaction_policy_dict)

    def add_input(self, input):
        self._add_io("input", input)

    def add_output(self, output):
        self._add_io("output", output)

    def _add_io(self, kind, entry):
        if "name" not in entry:
            raise TritonModelException(f"{kind} {entry!r} has no 'name'")
        for existing in self._config.setdefault(kind, []):
            if existing.get("name") != entry["name"]:
                continue
            for key in ("data_type", "dims"):
                if key in entry and key in existing and \
                        _normal(existing[key]) != _normal(entry[key]):
                    raise TritonModelException(
                        f"{kind} '{entry['name']}' already has {key} {existing[key]!r} in the "
                        f"configuration, auto_complete_config gives {entry[key]!r}")
            return
        self._config[kind].append(dict(entry))


def _normal(value):
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    return value


def get_input_tensor_by_name(inference_request, name):
    """The request's input tensor `name`, or None."""
    for tensor in inference_request.inputs():
        if tensor.name() == name:
            return tensor
    return None


def get_output_tensor_by_name(inference_response, name):
    """The response's output tensor `name`, or None."""
    for tensor in inference_response.output_tensors():
        if tensor.name() == name:
            return tensor
    return None


def get_input_config_by_name(model_config, name):
    """The entry of input `name` in a model configuration dict (json.loads(args['model_config']))."""
    for entry in model_config.get("input", []):
        if entry.get("name") == name:
            return entry
    return None


def get_output_config_by_name(model_config, name):
    """The entry of output `name` in a model configuration dict."""
    for entry in model_config.get("output", []):
        if entry.get("name") == name:
            return entry
    return None


def triton_to_numpy_type(data_type):
    """The numpy type of a model-config data type number (11 -> numpy.float32)."""
    return _NUMPY_BY_NUMBER.get(data_type)


def numpy_to_triton_type(data_type):
    """The model-config data type number of a numpy type or dtype (numpy.float32 -> 11)."""
    dtype = np.dtype(data_type)
    if dtype.kind in ("O", "S", "U"):
        return _TYPES["TYPE_STRING"][0]
    for number, numpy_type in _NUMPY_BY_NUMBER.items():
        if numpy_type is not np.object_ and dtype == np.dtype(numpy_type):
            return number
    return None


def triton_string_to_numpy(triton_type_string):
    """The numpy type of a model-config data type name ("TYPE_FP32" -> numpy.float32)."""
    entry = _TYPES.get(triton_type_string)
    return entry[1] if entry is not None else None


def serialize_byte_tensor(input_tensor):
    """The wire layout of a BYTES tensor (each element: 4-byte little-endian length, then its
    bytes, in C order) as a 1-D uint8 array; str elements are written as UTF-8."""
    parts = []
    for element in np.asarray(input_tensor, dtype=np.object_).ravel(order="C"):
        data = element.encode("utf-8") if isinstance(element, str) else bytes(element)
        parts.append(len(data).to_bytes(4, "little"))
        parts.append(data)
    return np.frombuffer(b"".join(parts), dtype=np.uint8)


def deserialize_bytes_tensor(encoded_tensor):
    """The elements of a BYTES tensor in wire layout, as a 1-D object array of bytes."""
    data = encoded_tensor.tobytes() if isinstance(encoded_tensor, np.ndarray) else bytes(encoded_tensor)
    elements = []
    offset = 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise TritonModelException("BYTES tensor ends inside an element's length")
        length = int.from_bytes(data[offset:offset + 4], "little")
        offset += 4
        if offset + length > len(data):
            raise TritonModelException("BYTES tensor ends inside an element")
        elements.append(data[offset:offset + length])
        offset += length
    result = np.empty(len(elements), dtype=np.object_)
    result[:] = elements
    return result
