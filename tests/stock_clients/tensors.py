"""Tensor data of the stock-client suites: one array per wire datatype, each value exact in its type."""

import numpy as np

# Every datatype of the KServe v2 protocol with Triton's extensions, with extreme values where the
# type has them. BF16 travels as float32 arrays in tritonclient; these values are exact in bfloat16.
ALL_TYPES = {
    "BOOL": np.array([True, False, True], dtype=np.bool_),
    "UINT8": np.array([0, 1, 255], dtype=np.uint8),
    "UINT16": np.array([0, 1, 65535], dtype=np.uint16),
    "UINT32": np.array([0, 1, 2**32 - 1], dtype=np.uint32),
    "UINT64": np.array([0, 1, 2**64 - 1], dtype=np.uint64),
    "INT8": np.array([-128, 0, 127], dtype=np.int8),
    "INT16": np.array([-32768, 0, 32767], dtype=np.int16),
    "INT32": np.array([-(2**31), 0, 2**31 - 1], dtype=np.int32),
    "INT64": np.array([-(2**63), 0, 2**63 - 1], dtype=np.int64),
    "FP16": np.array([-1.5, 0.0, 65504.0], dtype=np.float16),
    "FP32": np.array([-1.25, 0.0, 3.0e38], dtype=np.float32),
    "FP64": np.array([-1.0e300, 0.0, 2.5], dtype=np.float64),
    "BYTES": np.array([b"", b"stock client", b"\x00\xff binary"], dtype=np.object_),
    "BF16": np.array([-2.5, 0.0, 1.0], dtype=np.float32),
}

# The same values where a JSON body must carry them (HTTP without binary data): BYTES as UTF-8 text.
JSON_TYPES = {
    name: (np.array([b"", b"stock client", "h\u00e9llo".encode()], dtype=np.object_)
           if name == "BYTES" else values)
    for name, values in ALL_TYPES.items()
    if name not in ("FP16", "BF16")  # Triton's JSON tensors have no FP16 or BF16
}


def fp32_batch(rows=2, cols=4, start=0.0):
    """A [rows, cols] FP32 batch with distinct values."""
    return (np.arange(rows * cols, dtype=np.float32) + start).reshape(rows, cols)
