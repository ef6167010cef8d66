// Starting the interpreter, and Python errors as absl::Status. See python_host.h.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "backends/python_host/python_environment.h"
#include "backends/python_host/python_host.h"

namespace sonic::backends::python_host {
namespace {

// absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil build.
absl::string_view Absl(std::string_view text) { return {text.data(), text.size()}; }

constexpr const char* kSitePackages =
    "lib/python" Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(PY_MINOR_VERSION) "/site-packages";

// The file libpython was loaded from (found from one of its functions).
std::string LibpythonPath() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&Py_IsInitialized), &info) == 0 || info.dli_fname == nullptr) {
    return "";
  }
  return info.dli_fname;
}

// Serializes the start across every copy of this library in the process: each holds an flock on
// its own descriptor of libpython's file, and flock excludes other open file descriptions even
// within one process. The per-copy mutex covers threads of the same copy (flock would not).
class ProcessWideStartLock {
 public:
  explicit ProcessWideStartLock(const std::string& file) : lock_(mutex_) {
    if (!file.empty()) fd_ = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ >= 0) {
      while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~ProcessWideStartLock() {
    if (fd_ >= 0) close(fd_);  // Closing the descriptor releases the flock.
  }
  ProcessWideStartLock(const ProcessWideStartLock&) = delete;
  ProcessWideStartLock& operator=(const ProcessWideStartLock&) = delete;

 private:
  static inline std::mutex mutex_;
  std::lock_guard<std::mutex> lock_;
  int fd_ = -1;
};

// An instance that needs the GIL while another model's Python code runs gets it once that code
// is asked to let go, after the interpreter's switch interval: 5 ms by default, and an
// onnxruntime execution takes the GIL twice. The embedded interpreter asks after 0.5 ms (README:
// "The GIL"). REQUIRES: the GIL.
absl::Status SetSwitchInterval() {
  constexpr double kSwitchIntervalS = 0.0005;
  absl::StatusOr<PyRef> set = ImportAttribute("sys", "setswitchinterval");
  if (!set.ok()) return set.status();
  PyRef done(PyObject_CallFunction(set->get(), "d", kSwitchIntervalS));
  if (!done) {
    return TakePythonError(absl::StatusCode::kFailedPrecondition,
                           "cannot set the embedded Python's switch interval");
  }
  return absl::OkStatus();
}

absl::Status StartInterpreter(const PythonHome& home) {
  // A plugin is loaded with RTLD_LOCAL, so libpython's symbols are not global: extension modules
  // (numpy, onnxruntime), which do not link libpython, could not resolve them. Promote it.
  const std::string libpython = LibpythonPath();
  if (!libpython.empty()) dlopen(libpython.c_str(), RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);

  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  config.install_signal_handlers = 0;
  // The interpreter is never finalized, so buffered sys.stdout/stderr would never be flushed.
  config.buffered_stdio = 0;
  // With the environment's bin/python as sys.executable, Python's path computation reads its
  // pyvenv.cfg: sys.prefix is the environment, its site-packages on sys.path, the standard
  // library the base installation's.
  const std::string executable = (home.path / "bin" / "python").string();
  PyStatus status = PyConfig_SetBytesString(&config, &config.executable, executable.c_str());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot start the embedded Python (environment ", home.path.string(), ", from ",
        home.origin, "): ", status.func == nullptr ? "" : absl::StrCat(status.func, ": "),
        status.err_msg == nullptr ? "unknown error" : status.err_msg));
  }
  const absl::Status switching = SetSwitchInterval();
  PyEval_SaveThread();  // The GIL is taken by whoever needs it, through GilGuard.
  return switching;
}

// The Python thread state of a thread that GilGuard met first (see GilGuard), held by one
// PyGILState reference of its own. A thread that Python already knew (one started by Python, or
// the one that started the interpreter) keeps its state its own way, and none is made for it.
class KeptThreadState {
 public:
  KeptThreadState() {
    if (PyGILState_GetThisThreadState() != nullptr) return;
    PyGILState_Ensure();  // makes this thread's state and takes the GIL
    state_ = PyEval_SaveThread();
  }
  ~KeptThreadState() {
    // The main thread ends with the process, whose interpreter is never finalized: taking the
    // GIL at exit could wait on a thread that holds it for good.
    if (state_ == nullptr || getpid() == gettid()) return;
    PyEval_RestoreThread(state_);
    // The last reference: deletes the state and frees the GIL.
    PyGILState_Release(PyGILState_UNLOCKED);
  }
  KeptThreadState(const KeptThreadState&) = delete;
  KeptThreadState& operator=(const KeptThreadState&) = delete;

 private:
  PyThreadState* state_ = nullptr;
};

}  // namespace

void GilGuard::KeepThreadState() { thread_local KeptThreadState kept; }

absl::StatusOr<PythonHome> ResolvePythonHome(const HostOptions& options) {
  PythonHome home;
  if (!options.python_home.empty()) {
    home = {options.python_home, "HostOptions"};
  } else {
    // This copy of the library lives in the plugin (or program) that linked it.
    absl::StatusOr<PythonEnvironment> environment =
        DefaultPythonEnvironment(reinterpret_cast<const void*>(&ResolvePythonHome));
    if (!environment.ok()) return environment.status();
    home = {std::move(environment->path), std::move(environment->origin)};
  }
  std::error_code error;
  if (!std::filesystem::is_directory(home.path / kSitePackages, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("no Python ", PY_MAJOR_VERSION, ".", PY_MINOR_VERSION, " environment at ",
                     home.path.string(), " (from ", home.origin, "): ", kSitePackages,
                     " is missing; run scripts/bootstrap.sh, or set SONIC_PYTHON_HOME to a virtual "
                     "environment made with Python ",
                     PY_MAJOR_VERSION, ".", PY_MINOR_VERSION, " holding the backend's packages"));
  }
  return home;
}

absl::Status EnsureStarted(const HostOptions& options) {
  // Py_IsInitialized turns true before the start has imported `site`, which puts the
  // environment's site-packages on sys.path: a thread that took it for "started" could import
  // in the meantime and find no numpy. Outside the lock only this copy's own flag counts; under
  // it, Py_IsInitialized means a start that ran to its end (every start holds the lock).
  static std::atomic<bool> started{false};
  if (started.load(std::memory_order_acquire)) return absl::OkStatus();
  ProcessWideStartLock lock(LibpythonPath());
  if (!Py_IsInitialized()) {
    absl::StatusOr<PythonHome> home = ResolvePythonHome(options);
    if (!home.ok()) return home.status();
    if (absl::Status start = StartInterpreter(*home); !start.ok()) return start;
  }
  started.store(true, std::memory_order_release);
  return absl::OkStatus();
}

namespace {

// str(object), or a placeholder when even that fails (the failure is cleared).
std::string Str(PyObject* object) {
  PyRef text(PyObject_Str(object));
  const char* utf8 = text ? PyUnicode_AsUTF8(text.get()) : nullptr;
  if (utf8 == nullptr) {
    PyErr_Clear();
    return "<unprintable>";
  }
  return utf8;
}

// "".join(traceback.<function>(type, value, traceback)), or "" when the module fails.
std::string FormatWithTraceback(const char* function, PyObject* type, PyObject* value,
                                PyObject* traceback) {
  PyRef module(PyImport_ImportModule("traceback"));
  PyRef format(module ? PyObject_GetAttrString(module.get(), function) : nullptr);
  // format_exception_only takes no traceback argument.
  PyRef lines(!format ? nullptr
              : traceback == nullptr
                  ? PyObject_CallFunctionObjArgs(format.get(), type, value, nullptr)
                  : PyObject_CallFunctionObjArgs(format.get(), type, value, traceback, nullptr));
  PyRef empty(PyUnicode_FromString(""));
  PyRef joined(lines && empty ? PyUnicode_Join(empty.get(), lines.get()) : nullptr);
  if (!joined) {
    PyErr_Clear();
    return "";
  }
  return Str(joined.get());
}

}  // namespace

absl::Status TakePythonError(absl::StatusCode code, std::string_view context, ErrorDetail detail) {
  PyObject* raw_type = nullptr;
  PyObject* raw_value = nullptr;
  PyObject* raw_traceback = nullptr;
  PyErr_Fetch(&raw_type, &raw_value, &raw_traceback);
  if (raw_type == nullptr) {
    return absl::Status(code, absl::StrCat(Absl(context), ": failed without a Python exception"));
  }
  PyErr_NormalizeException(&raw_type, &raw_value, &raw_traceback);
  PyRef type(raw_type);
  PyRef value(raw_value);
  PyRef traceback(raw_traceback);
  std::string text;
  if (detail == ErrorDetail::kTraceback) {
    text = FormatWithTraceback("format_exception", type.get(), value.get(),
                               traceback ? traceback.get() : Py_None);
    absl::StripTrailingAsciiWhitespace(&text);
  } else {
    // The class name without its module ("InvalidProtobuf", not
    // "onnxruntime.capi.onnxruntime_pybind11_state.InvalidProtobuf"), then str(exception).
    const std::string_view qualified = reinterpret_cast<PyTypeObject*>(type.get())->tp_name;
    text = std::string(qualified.substr(qualified.rfind('.') + 1));
    std::string message = value ? Str(value.get()) : "";
    absl::StripAsciiWhitespace(&message);
    if (!message.empty()) absl::StrAppend(&text, ": ", absl::StrReplaceAll(message, {{"\n", " "}}));
  }
  if (text.empty()) text = Str(value ? value.get() : type.get());
  return absl::Status(code, absl::StrCat(Absl(context), ": ", text));
}

absl::StatusOr<PyRef> ImportAttribute(const char* module_name, const char* attribute) {
  PyRef module(PyImport_ImportModule(module_name));
  if (!module) {
    return TakePythonError(absl::StatusCode::kFailedPrecondition,
                           absl::StrCat("cannot import Python module '", module_name, "'"));
  }
  PyRef value(PyObject_GetAttrString(module.get(), attribute));
  if (!value) {
    return TakePythonError(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat("Python module '", module_name, "' has no '", attribute, "'"));
  }
  return value;
}

}  // namespace sonic::backends::python_host
