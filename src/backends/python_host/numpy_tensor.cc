// Tensors of the C backend interface as numpy arrays and back. See python_host.h.
#include <cstring>
#include <span>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/python_host/python_host.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::backends::python_host {
namespace {

// absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil build.
absl::string_view Absl(std::string_view text) { return {text.data(), text.size()}; }

// The numpy functions used here, imported once per copy of this library and kept for the life of
// the process (the interpreter is never finalized). Read and written under the GIL only.
struct Numpy {
  PyObject* ndarray;
  PyObject* frombuffer;
  PyObject* array;
  PyObject* ascontiguousarray;
};

absl::StatusOr<const Numpy*> GetNumpy() {
  static const Numpy* numpy = nullptr;
  if (numpy != nullptr) return numpy;
  Numpy loaded{};
  std::pair<const char*, PyObject**> wanted[] = {{"ndarray", &loaded.ndarray},
                                                 {"frombuffer", &loaded.frombuffer},
                                                 {"array", &loaded.array},
                                                 {"ascontiguousarray", &loaded.ascontiguousarray}};
  for (auto& [name, slot] : wanted) {
    absl::StatusOr<PyRef> function = ImportAttribute("numpy", name);
    if (!function.ok()) return function.status();
    *slot = function->release();
  }
  numpy = new Numpy(loaded);
  return numpy;
}

// A tuple of Python ints; empty on failure (a Python error pending).
PyRef ShapeTuple(std::span<const int64_t> shape) {
  PyRef tuple(PyTuple_New(static_cast<Py_ssize_t>(shape.size())));
  if (!tuple) return tuple;
  for (size_t i = 0; i < shape.size(); ++i) {
    PyObject* dim = PyLong_FromLongLong(shape[i]);
    if (dim == nullptr) return PyRef();
    PyTuple_SET_ITEM(tuple.get(), static_cast<Py_ssize_t>(i), dim);  // Steals `dim`.
  }
  return tuple;
}

std::string TensorContext(const SonicBackendTensor& tensor) {
  return absl::StrCat("tensor '", tensor.name == nullptr ? "" : tensor.name, "'");
}

// A list of Python bytes from BYTES data (per element: 4-byte little-endian length, bytes).
absl::StatusOr<PyRef> BytesElements(const SonicBackendTensor& tensor, int64_t count) {
  PyRef list(PyList_New(count));
  if (!list) return TakePythonError(absl::StatusCode::kInternal, TensorContext(tensor));
  const auto* data = static_cast<const uint8_t*>(tensor.data);
  uint64_t offset = 0;
  for (int64_t i = 0; i < count; ++i) {
    if (tensor.byte_size - offset < 4) {
      return absl::InvalidArgumentError(absl::StrCat(
          TensorContext(tensor), ": BYTES data ends inside the length of element ", i));
    }
    uint32_t length = 0;
    for (int b = 3; b >= 0; --b) length = (length << 8) | data[offset + b];
    offset += 4;
    if (tensor.byte_size - offset < length) {
      return absl::InvalidArgumentError(absl::StrCat(TensorContext(tensor), ": BYTES element ", i,
                                                     " has length ", length, " but only ",
                                                     tensor.byte_size - offset, " bytes remain"));
    }
    PyObject* item =
        PyBytes_FromStringAndSize(reinterpret_cast<const char*>(data + offset), length);
    if (item == nullptr) return TakePythonError(absl::StatusCode::kInternal, TensorContext(tensor));
    PyList_SET_ITEM(list.get(), i, item);  // Steals `item`.
    offset += length;
  }
  if (offset != tensor.byte_size) {
    return absl::InvalidArgumentError(absl::StrCat(TensorContext(tensor), ": ", count,
                                                   " BYTES elements take ", offset, " of its ",
                                                   tensor.byte_size, " bytes"));
  }
  return list;
}

// Appends element `item` (bytes, or str as UTF-8) in the BYTES wire layout.
absl::Status AppendBytesElement(PyObject* item, std::string& out, std::string_view context) {
  const char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_Check(item)) {
    data = PyBytes_AS_STRING(item);
    size = PyBytes_GET_SIZE(item);
  } else if (PyUnicode_Check(item)) {
    data = PyUnicode_AsUTF8AndSize(item, &size);
    if (data == nullptr) return TakePythonError(absl::StatusCode::kInvalidArgument, context);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(Absl(context), ": a BYTES element is a ",
                                                   Py_TYPE(item)->tp_name, ", not bytes or str"));
  }
  const auto length = static_cast<uint32_t>(size);
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((length >> (8 * b)) & 0xff));
  out.append(data, static_cast<size_t>(size));
  return absl::OkStatus();
}

absl::StatusOr<std::string> SerializeBytes(PyObject* array, std::string_view context) {
  PyRef flat(PyObject_CallMethod(array, "ravel", nullptr));
  PyRef list(flat ? PyObject_CallMethod(flat.get(), "tolist", nullptr) : nullptr);
  if (!list || !PyList_Check(list.get())) {
    return TakePythonError(absl::StatusCode::kInvalidArgument, context);
  }
  std::string out;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list.get()); ++i) {
    absl::Status appended = AppendBytesElement(PyList_GET_ITEM(list.get(), i), out, context);
    if (!appended.ok()) return appended;
  }
  return out;
}

absl::Status Deliver(const char* name, DataType type, std::span<const int64_t> shape,
                     const void* data, uint64_t byte_size,
                     const SonicBackendOutputAllocator& allocator, std::string_view context) {
  void* buffer = allocator.allocate(allocator.context, name, static_cast<int32_t>(type),
                                    shape.data(), static_cast<uint32_t>(shape.size()), byte_size);
  if (buffer == nullptr && byte_size > 0) {
    return absl::InternalError(
        absl::StrCat(Absl(context), ": the server refused to allocate output '", name, "' (",
                     byte_size, " bytes, shape ", ShapeToString(shape), ")"));
  }
  if (byte_size > 0) std::memcpy(buffer, data, byte_size);
  return absl::OkStatus();
}

}  // namespace

std::optional<std::string_view> NumpyDtypeName(DataType type) {
  switch (type) {
    case DataType::kBool:
      return "bool";
    case DataType::kUint8:
      return "uint8";
    case DataType::kUint16:
      return "uint16";
    case DataType::kUint32:
      return "uint32";
    case DataType::kUint64:
      return "uint64";
    case DataType::kInt8:
      return "int8";
    case DataType::kInt16:
      return "int16";
    case DataType::kInt32:
      return "int32";
    case DataType::kInt64:
      return "int64";
    case DataType::kFp16:
      return "float16";
    case DataType::kFp32:
      return "float32";
    case DataType::kFp64:
      return "float64";
    case DataType::kBytes:
      return "object";
    default:
      return std::nullopt;
  }
}

std::optional<DataType> DataTypeFromNumpyName(std::string_view dtype_name) {
  if (dtype_name == "object" || absl::StartsWith(Absl(dtype_name), "bytes") ||
      absl::StartsWith(Absl(dtype_name), "str")) {
    return DataType::kBytes;
  }
  for (int32_t number = 1; number <= static_cast<int32_t>(DataType::kBf16); ++number) {
    std::optional<DataType> type = DataTypeFromNumber(number);
    if (type.has_value() && NumpyDtypeName(*type) == dtype_name) return type;
  }
  return std::nullopt;
}

absl::StatusOr<PyRef> TensorAsNumpy(const SonicBackendTensor& tensor) {
  std::optional<DataType> type = DataTypeFromNumber(tensor.data_type);
  std::optional<std::string_view> dtype = type.has_value() ? NumpyDtypeName(*type) : std::nullopt;
  if (!dtype.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        TensorContext(tensor), " has type ", type.has_value() ? Absl(WireName(*type)) : "unknown",
        ", which has no numpy dtype"));
  }
  const std::span<const int64_t> shape(tensor.shape, tensor.rank);
  absl::StatusOr<int64_t> count = ElementCount(shape);
  if (!count.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(TensorContext(tensor), ": ", count.status().message()));
  }
  absl::StatusOr<const Numpy*> numpy = GetNumpy();
  if (!numpy.ok()) return numpy.status();
  PyRef shape_tuple = ShapeTuple(shape);
  if (!shape_tuple) return TakePythonError(absl::StatusCode::kInternal, TensorContext(tensor));
  PyRef flat;
  if (*type == DataType::kBytes) {
    absl::StatusOr<PyRef> elements = BytesElements(tensor, *count);
    if (!elements.ok()) return elements.status();
    PyRef kwargs(Py_BuildValue("{s:s}", "dtype", "object"));
    PyRef args(PyTuple_Pack(1, elements->get()));
    if (kwargs && args) flat = PyRef(PyObject_Call((*numpy)->array, args.get(), kwargs.get()));
  } else {
    const uint64_t expected = static_cast<uint64_t>(*count) * ElementSize(*type);
    if (expected != tensor.byte_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          TensorContext(tensor), " has ", tensor.byte_size, " bytes, which does not match ",
          Absl(WireName(*type)), " shape ", ShapeToString(shape), " (", expected, " bytes)"));
    }
    static char empty = 0;
    char* data =
        tensor.byte_size == 0 ? &empty : static_cast<char*>(const_cast<void*>(tensor.data));
    PyRef view(
        PyMemoryView_FromMemory(data, static_cast<Py_ssize_t>(tensor.byte_size), PyBUF_READ));
    if (view) {
      flat = PyRef(PyObject_CallFunction((*numpy)->frombuffer, "Os#", view.get(), dtype->data(),
                                         static_cast<Py_ssize_t>(dtype->size())));
    }
  }
  PyRef shaped(flat ? PyObject_CallMethod(flat.get(), "reshape", "O", shape_tuple.get()) : nullptr);
  if (!shaped) return TakePythonError(absl::StatusCode::kInternal, TensorContext(tensor));
  return shaped;
}

absl::StatusOr<std::vector<int64_t>> NumpyShape(PyObject* array, std::string_view context) {
  PyRef shape(PyObject_GetAttrString(array, "shape"));
  if (!shape || !PyTuple_Check(shape.get())) {
    if (PyErr_Occurred()) PyErr_Clear();
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(context), ": a ", Py_TYPE(array)->tp_name, " has no shape tuple"));
  }
  std::vector<int64_t> dims;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(shape.get()); ++i) {
    const long long dim = PyLong_AsLongLong(PyTuple_GET_ITEM(shape.get(), i));
    if (dim == -1 && PyErr_Occurred()) {
      return TakePythonError(absl::StatusCode::kInvalidArgument, context);
    }
    dims.push_back(dim);
  }
  return dims;
}

absl::Status CopyNumpyToOutput(PyObject* array, const char* name, DataType type,
                               const SonicBackendOutputAllocator& allocator,
                               std::string_view context) {
  absl::StatusOr<const Numpy*> numpy = GetNumpy();
  if (!numpy.ok()) return numpy.status();
  const int is_array = PyObject_IsInstance(array, (*numpy)->ndarray);
  if (is_array != 1) {
    if (is_array < 0) PyErr_Clear();
    return absl::InvalidArgumentError(absl::StrCat(Absl(context), ": output '", name, "' is a ",
                                                   Py_TYPE(array)->tp_name, ", not a numpy array"));
  }
  PyRef dtype(PyObject_GetAttrString(array, "dtype"));
  PyRef dtype_name(dtype ? PyObject_GetAttrString(dtype.get(), "name") : nullptr);
  const char* got = dtype_name ? PyUnicode_AsUTF8(dtype_name.get()) : nullptr;
  if (got == nullptr) return TakePythonError(absl::StatusCode::kInternal, context);
  const std::optional<std::string_view> expected = NumpyDtypeName(type);
  const bool matches = type == DataType::kBytes ? DataTypeFromNumpyName(got) == DataType::kBytes
                                                : expected.has_value() && *expected == got;
  if (!matches) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(context), ": output '", name, "' should be ", Absl(WireName(type)),
                     " (numpy ", Absl(expected.value_or("none")), ") but is numpy ", got));
  }
  SONIC_ASSIGN_OR_RETURN(std::vector<int64_t> shape, NumpyShape(array, context));
  if (type == DataType::kBytes) {
    SONIC_ASSIGN_OR_RETURN(std::string bytes, SerializeBytes(array, context));
    return Deliver(name, type, shape, bytes.data(), bytes.size(), allocator, context);
  }
  PyRef contiguous(PyObject_CallFunctionObjArgs((*numpy)->ascontiguousarray, array, nullptr));
  Py_buffer view;
  if (!contiguous || PyObject_GetBuffer(contiguous.get(), &view, PyBUF_C_CONTIGUOUS) != 0) {
    return TakePythonError(absl::StatusCode::kInternal, context);
  }
  absl::Status delivered;
  {
    GilRelease unlocked;
    delivered =
        Deliver(name, type, shape, view.buf, static_cast<uint64_t>(view.len), allocator, context);
  }
  PyBuffer_Release(&view);
  return delivered;
}

}  // namespace sonic::backends::python_host
