// TensorFlow's C API, reached through the shared library of the tensorflow-cpu wheel.
//
// Why the library is opened here instead of being linked: libtensorflow_framework.so.2 carries
// its own protobuf (and Abseil, BoringSSL, zlib) and imports those symbols through its PLT like
// any other. Linked to the plugin, or opened without RTLD_DEEPBIND, the dynamic linker binds
// those imports to the first definition in the process, which in sonic-server is Debian's
// libprotobuf: TensorFlow then runs another protobuf's code on its own objects. Opened with
// RTLD_LOCAL | RTLD_DEEPBIND, TensorFlow's libraries resolve their symbols among themselves first
// and add nothing to the server's global scope.
//
// ASan refuses RTLD_DEEPBIND (its interceptors would be bypassed), so in a sanitized build Load()
// reports FAILED_PRECONDITION instead of loading.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "tensorflow/c/c_api.h"

namespace sonic::backends::tensorflow {

// The C API functions the backend uses, resolved from the loaded library.
struct TfApi {
#define SONIC_TF_FUNCTIONS(X)                                                                    \
  X(TF_NewStatus)                                                                                \
  X(TF_DeleteStatus) X(TF_GetCode) X(TF_Message) X(TF_NewBuffer) X(TF_NewBufferFromString)       \
      X(TF_DeleteBuffer) X(TF_NewGraph) X(TF_DeleteGraph) X(TF_NewImportGraphDefOptions)         \
          X(TF_DeleteImportGraphDefOptions) X(TF_GraphImportGraphDef) X(TF_GraphOperationByName) \
              X(TF_OperationNumOutputs) X(TF_OperationOutputType) X(TF_NewSessionOptions)        \
                  X(TF_DeleteSessionOptions) X(TF_SetConfig) X(TF_NewSession)                    \
                      X(TF_LoadSessionFromSavedModel) X(TF_CloseSession) X(TF_DeleteSession)     \
                          X(TF_SessionRun) X(TF_NewTensor) X(TF_DeleteTensor) X(TF_TensorType)   \
                              X(TF_NumDims) X(TF_Dim) X(TF_TensorByteSize) X(TF_TensorData)
#define SONIC_TF_DECLARE(name) decltype(&::name) name = nullptr;
  SONIC_TF_FUNCTIONS(SONIC_TF_DECLARE)
#undef SONIC_TF_DECLARE
};

// Opens `library` (a libtensorflow_cc.so.2) and resolves the table. The library stays open for the
// life of the process (TensorFlow's threads and static state do not survive dlclose), and so does
// the table. Errors: FAILED_PRECONDITION when the file cannot be loaded (with dlerror's reason),
// a function is missing, or the process is sanitized. Thread-safe.
absl::StatusOr<const TfApi*> OpenTfLibrary(const std::string& library);

// OpenTfLibrary of TfLibraryPath(), once per process: later calls return the same table or the
// same error. Thread-safe.
absl::StatusOr<const TfApi*> LoadTfApi();

// The tensorflow-cpu wheel's libtensorflow_cc.so.2 in the plugin's Python environment
// (python_host/python_environment.h: SONIC_PYTHON_HOME, or in the build folder the project's
// .venv), at the place the wheel the plugin was compiled against keeps it. FAILED_PRECONDITION,
// naming SONIC_PYTHON_HOME, when there is no environment or the library is not there.
absl::StatusOr<std::string> TfLibraryPath();

}  // namespace sonic::backends::tensorflow
