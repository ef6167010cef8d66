#include "backends/python_host/python_host.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backends/python_host/python_environment.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// The interpreter is never finalized (python_host.h): its allocations are not leaks.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace sonic::backends::python_host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class PythonHostTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(EnsureStarted().ok()); }

  // Runs `code` in __main__; returns the value of the expression `result` there, as str.
  static std::string Eval(const char* code, const char* result) {
    PyRun_SimpleString(code);
    PyRef main = PyRef::Borrow(PyImport_AddModule("__main__"));
    PyRef value(PyObject_GetAttrString(main.get(), result));
    if (!value) {
      PyErr_Clear();
      return "<missing>";
    }
    PyRef text(PyObject_Str(value.get()));
    return PyUnicode_AsUTF8(text.get());
  }
};

// Collects the outputs handed to it; refuses every allocation when `refuse` is set.
struct TestAllocator {
  std::string name;
  int32_t data_type = 0;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
  bool refuse = false;

  SonicBackendOutputAllocator Table() {
    return {this,
            [](void* context, const char* name, int32_t data_type, const int64_t* shape,
               uint32_t rank, uint64_t byte_size) -> void* {
              auto* self = static_cast<TestAllocator*>(context);
              if (self->refuse) return nullptr;
              self->name = name;
              self->data_type = data_type;
              self->shape.assign(shape, shape + rank);
              self->bytes.resize(byte_size);
              return self->bytes.data();
            }};
  }
};

TEST_F(PythonHostTest, StartsOnceAndLeavesTheGilFree) {
  EXPECT_TRUE(Py_IsInitialized());
  EXPECT_TRUE(EnsureStarted().ok());
  EXPECT_EQ(PyGILState_Check(), 0);
  GilGuard gil;
  EXPECT_EQ(PyGILState_Check(), 1);
  // Unbuffered: a print is not lost in a buffer no finalization flushes.
  EXPECT_EQ(Eval("import sys\nunbuffered = sys.stdout.write_through", "unbuffered"), "True");
  // Another instance waits at most this long for Python code to let the GIL go (not 5 ms).
  EXPECT_EQ(Eval("import sys\nswitch = sys.getswitchinterval()", "switch"), "0.0005");
}

TEST_F(PythonHostTest, ImportsFromTheResolvedEnvironment) {
  absl::StatusOr<PythonHome> home = ResolvePythonHome({});
  ASSERT_TRUE(home.ok()) << home.status();
  GilGuard gil;
  EXPECT_EQ(Eval("import sys, numpy, os\n"
                 "in_home = os.path.realpath(numpy.__file__).startswith("
                 "os.path.realpath(sys.prefix))",
                 "in_home"),
            "True");
  EXPECT_EQ(Eval("import sys, os\nprefix = os.path.realpath(sys.prefix)", "prefix"),
            std::filesystem::canonical(home->path).string());
}

// Threads that load models at once each start the interpreter and import at once. None may
// import before the start has put the environment's site-packages on sys.path: libpython says
// it is initialized a few milliseconds before that (before it imports `site`), and the threads
// here arrive exactly then. Run in a fresh process: this one's interpreter is started already.
TEST(PythonHostStartTest, ThreadsStartingAtOnceAllImportFromTheEnvironment) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i) {
          threads.emplace_back([i, &failures] {
            if (i > 0) {
              while (!Py_IsInitialized()) std::this_thread::yield();
            }
            if (!EnsureStarted().ok()) {
              ++failures;
              return;
            }
            GilGuard gil;
            PyRef numpy(PyImport_ImportModule("numpy"));
            if (!numpy) {
              PyErr_Print();
              ++failures;
            }
          });
        }
        for (std::thread& thread : threads) thread.join();
        std::exit(failures == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(PythonHomeTest, MissingEnvironmentIsAClearError) {
  absl::StatusOr<PythonHome> home = ResolvePythonHome({.python_home = "/nonexistent/venv"});
  ASSERT_FALSE(home.ok());
  EXPECT_EQ(home.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(home.status().message()), HasSubstr("/nonexistent/venv"));
  EXPECT_THAT(std::string(home.status().message()), HasSubstr("SONIC_PYTHON_HOME"));
}

TEST(PythonEnvironmentTest, SonicPythonHomeComesFirst) {
  const char* saved = std::getenv("SONIC_PYTHON_HOME");
  const std::string previous = saved == nullptr ? "" : saved;
  setenv("SONIC_PYTHON_HOME", "/opt/site/venv", 1);
  absl::StatusOr<PythonEnvironment> environment =
      DefaultPythonEnvironment(reinterpret_cast<const void*>(&DefaultPythonEnvironment));
  if (saved == nullptr) {
    unsetenv("SONIC_PYTHON_HOME");
  } else {
    setenv("SONIC_PYTHON_HOME", previous.c_str(), 1);
  }
  ASSERT_TRUE(environment.ok()) << environment.status();
  EXPECT_EQ(environment->path, "/opt/site/venv");
  EXPECT_EQ(environment->origin, "SONIC_PYTHON_HOME");
}

TEST(PythonEnvironmentTest, CodeInsideTheBuildFolderGetsTheBuildsDefault) {
  if (const char* env = std::getenv("SONIC_PYTHON_HOME"); env != nullptr && *env != '\0') {
    GTEST_SKIP() << "SONIC_PYTHON_HOME is set for this run";
  }
  // This test program lies in the build folder.
  absl::StatusOr<PythonEnvironment> environment =
      DefaultPythonEnvironment(reinterpret_cast<const void*>(&DefaultPythonEnvironment));
  ASSERT_TRUE(environment.ok()) << environment.status();
  EXPECT_EQ(environment->origin, "the build's default");
}

TEST(PythonEnvironmentTest, InsideComparesWholeComponents) {
  EXPECT_TRUE(IsInside("/a/build/lib/libx.so", "/a/build"));
  EXPECT_TRUE(IsInside("/a/build/lib/libx.so", "/a/build/"));
  EXPECT_TRUE(IsInside("/a/build/../build/lib/libx.so", "/a/build"));
  EXPECT_FALSE(IsInside("/a/build-other/lib/libx.so", "/a/build"));
  EXPECT_FALSE(IsInside("/usr/lib/libx.so", "/a/build"));
  EXPECT_FALSE(IsInside("/a/build", "/a/build"));
  EXPECT_FALSE(IsInside("/a/build/lib/libx.so", ""));
}

TEST_F(PythonHostTest, WrapsInputsWithoutCopying) {
  alignas(64) float data[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[] = {2, 3};
  SonicBackendTensor tensor{"x",         static_cast<int32_t>(DataType::kFp32), shape, 2, data,
                            sizeof(data)};
  GilGuard gil;
  absl::StatusOr<PyRef> array = TensorAsNumpy(tensor);
  ASSERT_TRUE(array.ok()) << array.status();
  PyRef main = PyRef::Borrow(PyImport_AddModule("__main__"));
  ASSERT_EQ(PyObject_SetAttrString(main.get(), "a", array->get()), 0);
  EXPECT_EQ(Eval("address = a.ctypes.data", "address"),
            std::to_string(reinterpret_cast<uintptr_t>(data)));
  EXPECT_EQ(Eval("summary = (a.shape, str(a.dtype), a.flags.writeable, float(a[1, 2]))", "summary"),
            "((2, 3), 'float32', False, 6.0)");
}

TEST_F(PythonHostTest, RefusesAByteSizeThatDoesNotMatchTheShape) {
  float data[5] = {};
  const int64_t shape[] = {2, 3};
  SonicBackendTensor tensor{"x",         static_cast<int32_t>(DataType::kFp32), shape, 2, data,
                            sizeof(data)};
  GilGuard gil;
  absl::StatusOr<PyRef> array = TensorAsNumpy(tensor);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(array.status().message()), HasSubstr("'x' has 20 bytes"));
}

TEST_F(PythonHostTest, BytesTensorsRoundTrip) {
  const std::string wire = std::string("\x02\0\0\0ab\0\0\0\0\x03\0\0\0xyz", 17);
  const int64_t shape[] = {3};
  SonicBackendTensor tensor{
      "s", static_cast<int32_t>(DataType::kBytes), shape, 1, wire.data(), wire.size()};
  GilGuard gil;
  absl::StatusOr<PyRef> array = TensorAsNumpy(tensor);
  ASSERT_TRUE(array.ok()) << array.status();
  TestAllocator out;
  SonicBackendOutputAllocator table = out.Table();
  ASSERT_TRUE(CopyNumpyToOutput(array->get(), "s_out", DataType::kBytes, table, "test").ok());
  EXPECT_EQ(std::string(out.bytes.begin(), out.bytes.end()), wire);
  EXPECT_THAT(out.shape, ElementsAre(3));

  const std::string truncated = wire.substr(0, 9);
  tensor.data = truncated.data();
  tensor.byte_size = truncated.size();
  EXPECT_EQ(TensorAsNumpy(tensor).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PythonHostTest, CopiesOutputsInCOrderAndChecksTheirType) {
  GilGuard gil;
  PyRun_SimpleString("import numpy\nt = numpy.arange(6, dtype=numpy.int64).reshape(2, 3).T\n");
  PyRef main = PyRef::Borrow(PyImport_AddModule("__main__"));
  PyRef transposed(PyObject_GetAttrString(main.get(), "t"));
  TestAllocator out;
  SonicBackendOutputAllocator table = out.Table();
  ASSERT_TRUE(CopyNumpyToOutput(transposed.get(), "y", DataType::kInt64, table, "test").ok());
  EXPECT_EQ(out.name, "y");
  EXPECT_EQ(out.data_type, static_cast<int32_t>(DataType::kInt64));
  EXPECT_THAT(out.shape, ElementsAre(3, 2));
  std::vector<int64_t> values(6);
  std::memcpy(values.data(), out.bytes.data(), out.bytes.size());
  EXPECT_THAT(values, ElementsAre(0, 3, 1, 4, 2, 5));

  absl::Status mistyped = CopyNumpyToOutput(transposed.get(), "y", DataType::kFp32, table, "test");
  EXPECT_EQ(mistyped.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(mistyped.message()),
              HasSubstr("should be FP32 (numpy float32) but is numpy int64"));

  out.refuse = true;
  EXPECT_EQ(CopyNumpyToOutput(transposed.get(), "y", DataType::kInt64, table, "test").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(CopyNumpyToOutput(Py_None, "y", DataType::kInt64, table, "test").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PythonHostTest, PythonErrorsCarryTheirMessageOrTraceback) {
  GilGuard gil;
  PyRun_SimpleString("def explode():\n    raise ValueError('boom\\nsecond line')\n");
  PyRef main = PyRef::Borrow(PyImport_AddModule("__main__"));
  PyRef explode(PyObject_GetAttrString(main.get(), "explode"));
  ASSERT_EQ(PyObject_CallNoArgs(explode.get()), nullptr);
  absl::Status short_form = TakePythonError(absl::StatusCode::kInvalidArgument, "model 'm'");
  EXPECT_EQ(short_form.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(short_form.message()), "model 'm': ValueError: boom second line");
  EXPECT_EQ(PyErr_Occurred(), nullptr);

  ASSERT_EQ(PyObject_CallNoArgs(explode.get()), nullptr);
  absl::Status long_form =
      TakePythonError(absl::StatusCode::kInternal, "model 'm'", ErrorDetail::kTraceback);
  EXPECT_THAT(std::string(long_form.message()), HasSubstr("Traceback (most recent call last)"));
  EXPECT_THAT(std::string(long_form.message()), HasSubstr("in explode"));
  EXPECT_THAT(std::string(long_form.message()), HasSubstr("ValueError: boom"));

  EXPECT_THAT(std::string(TakePythonError(absl::StatusCode::kInternal, "ctx").message()),
              HasSubstr("without a Python exception"));
  absl::StatusOr<PyRef> missing = ImportAttribute("no_such_module_here", "x");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("ModuleNotFoundError"));
}

TEST_F(PythonHostTest, ThreadsTakeTheGilInTurn) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &ok] {
      for (int i = 0; i < 50; ++i) {
        GilGuard gil;
        PyRef value(PyLong_FromLong(t * 1000 + i));
        ok[t] += PyLong_AsLong(value.get()) == t * 1000 + i;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(ok, ElementsAre(50, 50, 50, 50));
  EXPECT_EQ(PyGILState_Check(), 0);
}

// The interpreter's thread states, the calling thread's own included.
int CountThreadStates() {
  GilGuard gil;
  int count = 0;
  for (PyThreadState* state = PyInterpreterState_ThreadHead(PyInterpreterState_Main());
       state != nullptr; state = PyThreadState_Next(state)) {
    ++count;
  }
  return count;
}

TEST_F(PythonHostTest, AThreadKeepsOneThreadStateUntilItEnds) {
  const int before = CountThreadStates();
  uint64_t first = 0;
  uint64_t second = 0;
  int during = 0;
  std::thread worker([&] {
    {
      GilGuard gil;
      first = PyThreadState_GetID(PyThreadState_Get());
    }
    {
      GilGuard gil;
      second = PyThreadState_GetID(PyThreadState_Get());
    }
    during = CountThreadStates();
  });
  worker.join();
  EXPECT_EQ(first, second);
  EXPECT_EQ(during, before + 1);
  EXPECT_EQ(CountThreadStates(), before);
  EXPECT_EQ(PyGILState_Check(), 0);
}

TEST(NumpyDtypeTest, MapsTritonTypes) {
  EXPECT_EQ(NumpyDtypeName(DataType::kFp32), "float32");
  EXPECT_EQ(NumpyDtypeName(DataType::kBool), "bool");
  EXPECT_EQ(NumpyDtypeName(DataType::kBytes), "object");
  EXPECT_EQ(NumpyDtypeName(DataType::kBf16), std::nullopt);
  EXPECT_EQ(DataTypeFromNumpyName("int16"), DataType::kInt16);
  EXPECT_EQ(DataTypeFromNumpyName("float16"), DataType::kFp16);
  EXPECT_EQ(DataTypeFromNumpyName("bytes40"), DataType::kBytes);
  EXPECT_EQ(DataTypeFromNumpyName("complex64"), std::nullopt);
  EXPECT_EQ(NumpyDtypeName(DataType::kUint64), "uint64");
}

}  // namespace
}  // namespace sonic::backends::python_host
