// The embedded CPython interpreter that Python-hosted backends run on (onnxruntime through its
// PyPI wheel, the Python model backend), and the conversions between the C backend interface's
// tensors and numpy arrays.
//
// One interpreter per process: whichever plugin calls EnsureStarted first starts it (Debian's
// libpython3.11, its sys.path the project's virtual environment), and every other plugin shares
// it. Each plugin links this library statically, so each carries its own copy of this code; the
// copies agree through libpython itself (Py_IsInitialized, read under the lock) and serialize
// the start with a lock that is process-wide. The interpreter is never finalized: backends are never unloaded, and the
// process may exit while other threads still hold Python objects.
//
// GIL: after EnsureStarted no thread holds it. Every use of the C API below (and of any Python
// object) happens under a GilGuard; the functions marked "REQUIRES: the GIL" assume one is held.
// Long computations that do not touch Python objects (a memcpy of an output, a framework's own
// kernels) run without it, so instances of different models compute in parallel.
//
// Include this header before any standard header (Python.h's rule).
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sonic/backend/backend_api.h"
#include "sonic/common/data_type.h"

namespace sonic::backends::python_host {

struct HostOptions {
  // The Python environment (a virtual environment made with Python 3.11, e.g. the project's
  // .venv from scripts/bootstrap.sh) whose site-packages the interpreter imports from. Empty (the
  // default): DefaultPythonEnvironment (python_environment.h): SONIC_PYTHON_HOME, else, for a
  // plugin or program inside the build folder, the build's default (the source tree's .venv).
  std::filesystem::path python_home;
};

// The environment EnsureStarted would use for `options`, and where that choice came from (for
// messages). FAILED_PRECONDITION, naming the path, its origin and how to fix it, when it is not
// a Python environment of this interpreter's version (no lib/python3.11/site-packages), or when
// there is none (an installed plugin without SONIC_PYTHON_HOME).
struct PythonHome {
  std::filesystem::path path;
  std::string origin;  // "HostOptions", "SONIC_PYTHON_HOME" or "the build's default"
};
absl::StatusOr<PythonHome> ResolvePythonHome(const HostOptions& options);

// Starts the interpreter unless it is already running (started by another plugin or by the host
// program), then releases the GIL. Idempotent and thread-safe; the first start wins, later
// options are ignored. The interpreter runs isolated (no PYTHON* environment variables, no user
// site-packages), installs no signal handlers (the server owns SIGINT and SIGTERM), leaves
// sys.stdout and sys.stderr unbuffered (never finalized, it would never flush them) and asks
// running Python code to let the GIL go after 0.5 ms instead of 5 (sys.setswitchinterval).
// FAILED_PRECONDITION when the environment cannot be resolved (see ResolvePythonHome) or the
// interpreter fails to start, with Python's reason; not retryable until the environment is
// fixed.
absl::Status EnsureStarted(const HostOptions& options = {});

// Holds the GIL for the current thread for the guard's lifetime (PyGILState_Ensure/Release);
// nests. The thread's Python thread state outlives the guard: the first guard on a thread that
// Python does not know yet creates one, which the thread keeps until it ends (the process's main
// thread: for good, as the interpreter), so a later guard only takes the GIL. A state made and
// dropped per guard, PyGILState's own way, costs about 11 us each time (its frame stack is
// mapped and unmapped with it). REQUIRES: EnsureStarted returned OK.
class GilGuard {
 public:
  GilGuard() {
    KeepThreadState();
    state_ = PyGILState_Ensure();
  }
  ~GilGuard() { PyGILState_Release(state_); }
  GilGuard(const GilGuard&) = delete;
  GilGuard& operator=(const GilGuard&) = delete;

 private:
  static void KeepThreadState();
  PyGILState_STATE state_;
};

// Releases the GIL the current thread holds for the guard's lifetime (Py_BEGIN_ALLOW_THREADS);
// no Python object may be touched meanwhile. REQUIRES: the GIL.
class GilRelease {
 public:
  GilRelease() : saved_(PyEval_SaveThread()) {}
  ~GilRelease() { PyEval_RestoreThread(saved_); }
  GilRelease(const GilRelease&) = delete;
  GilRelease& operator=(const GilRelease&) = delete;

 private:
  PyThreadState* saved_;
};

// An owned reference to a Python object (nullptr allowed). Destroying, resetting or assigning
// one drops its reference: REQUIRES: the GIL, at every one of those moments.
class PyRef {
 public:
  PyRef() = default;
  // Takes over `owned` (a new reference, e.g. a C API result); nullptr stays empty.
  explicit PyRef(PyObject* owned) : object_(owned) {}
  // A new reference to `borrowed`.
  static PyRef Borrow(PyObject* borrowed) {
    Py_XINCREF(borrowed);
    return PyRef(borrowed);
  }
  PyRef(PyRef&& other) noexcept : object_(other.release()) {}
  PyRef& operator=(PyRef&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  ~PyRef() { Py_XDECREF(object_); }

  PyObject* get() const { return object_; }
  explicit operator bool() const { return object_ != nullptr; }
  // Gives up ownership without dropping the reference.
  PyObject* release() {
    PyObject* object = object_;
    object_ = nullptr;
    return object;
  }
  void reset(PyObject* owned = nullptr) {
    PyObject* old = object_;
    object_ = owned;
    Py_XDECREF(old);
  }

 private:
  PyObject* object_ = nullptr;
};

enum class ErrorDetail {
  kMessage,    // "context: ValueError: bad value", on one line (the class without its module)
  kTraceback,  // "context: Traceback (most recent call last): ...", Python's full report
};

// Takes (and clears) the pending Python exception and returns it as a status of `code`, its
// message "<context>: " then the exception as `detail` says. When no exception is pending, the
// message says so (a bug of the caller, who saw a failure without one). REQUIRES: the GIL.
absl::Status TakePythonError(absl::StatusCode code, std::string_view context,
                             ErrorDetail detail = ErrorDetail::kMessage);

// `module.attribute` (e.g. ImportAttribute("numpy", "frombuffer")): FAILED_PRECONDITION with
// Python's reason when the module cannot be imported or lacks the attribute.
// REQUIRES: the GIL.
absl::StatusOr<PyRef> ImportAttribute(const char* module, const char* attribute);

// The numpy dtype of a Triton type: "float32", "bool", ..., "object" for BYTES (arrays of
// Python bytes). nullopt for BF16 (numpy has none) and kInvalid.
std::optional<std::string_view> NumpyDtypeName(DataType type);

// The Triton type of a numpy dtype name (numpy's dtype.name: "float32", "int64", "bool");
// "object" and "bytesN"/"strN" map to BYTES. nullopt for any other.
std::optional<DataType> DataTypeFromNumpyName(std::string_view dtype_name);

// `tensor` as a read-only numpy array of its shape and type. Fixed-size types are wrapped
// without a copy (numpy.frombuffer over a memoryview of tensor.data): the array must not be used
// after the tensor's buffer goes away (for a request tensor: after instance_execute returns).
// BYTES (4-byte little-endian length, then the bytes, per element) becomes a new object array of
// Python bytes. INVALID_ARGUMENT, naming the tensor, when byte_size does not match the shape and
// type or the type has no numpy dtype. REQUIRES: the GIL.
absl::StatusOr<PyRef> TensorAsNumpy(const SonicBackendTensor& tensor);

// The shape of a numpy array (any object with a `shape` tuple of integers).
// INVALID_ARGUMENT, starting with `context`, when it has none. REQUIRES: the GIL.
absl::StatusOr<std::vector<int64_t>> NumpyShape(PyObject* array, std::string_view context);

// Copies numpy array `array` into the buffer `allocator` gives for output `name` of type `type`
// and the array's shape. The array's dtype must be `type`'s (it is never converted; BYTES takes
// an array of bytes or str, str written as UTF-8); any memory layout is accepted (copied as C
// order). The copy of a fixed-size type runs without the GIL. Errors, starting with `context`:
// INVALID_ARGUMENT when `array` is not a numpy array or has another dtype (naming both);
// INTERNAL when the allocator refuses. REQUIRES: the GIL.
absl::Status CopyNumpyToOutput(PyObject* array, const char* name, DataType type,
                               const SonicBackendOutputAllocator& allocator,
                               std::string_view context);

}  // namespace sonic::backends::python_host
