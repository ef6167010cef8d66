#include "region_registrars.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sonic::client::internal {
namespace {

absl::Status FromRpc(const grpc::Status& status, const char* rpc) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(rpc, ": ", status.error_message()));
}

}  // namespace

ShmRegistrar SystemShmRpcs(StubSource stub, ContextSource new_context,
                           ContextSource release_context) {
  if (!release_context) release_context = new_context;
  ShmRegistrar registrar;
  registrar.register_region = [stub, new_context](const std::string& name, const std::string& key,
                                                  size_t byte_size) {
    inference::SystemSharedMemoryRegisterRequest request;
    request.set_name(name);
    request.set_key(key);
    request.set_byte_size(byte_size);
    inference::SystemSharedMemoryRegisterResponse response;
    return FromRpc(stub()->SystemSharedMemoryRegister(new_context().get(), request, &response),
                   "SystemSharedMemoryRegister");
  };
  registrar.unregister_region = [stub, release_context](const std::string& name) {
    inference::SystemSharedMemoryUnregisterRequest request;
    request.set_name(name);
    inference::SystemSharedMemoryUnregisterResponse response;
    return FromRpc(
        stub()->SystemSharedMemoryUnregister(release_context().get(), request, &response),
        "SystemSharedMemoryUnregister");
  };
  return registrar;
}

CudaShmRegistrar CudaShmRpcs(StubSource stub, ContextSource new_context,
                             ContextSource release_context) {
  if (!release_context) release_context = new_context;
  CudaShmRegistrar registrar;
  registrar.register_region = [stub, new_context](const std::string& name,
                                                  const std::string& raw_handle, int device_id,
                                                  size_t byte_size) {
    inference::CudaSharedMemoryRegisterRequest request;
    request.set_name(name);
    request.set_raw_handle(raw_handle);
    request.set_device_id(device_id);
    request.set_byte_size(byte_size);
    inference::CudaSharedMemoryRegisterResponse response;
    return FromRpc(stub()->CudaSharedMemoryRegister(new_context().get(), request, &response),
                   "CudaSharedMemoryRegister");
  };
  registrar.unregister_region = [stub, release_context](const std::string& name) {
    inference::CudaSharedMemoryUnregisterRequest request;
    request.set_name(name);
    inference::CudaSharedMemoryUnregisterResponse response;
    return FromRpc(stub()->CudaSharedMemoryUnregister(release_context().get(), request, &response),
                   "CudaSharedMemoryUnregister");
  };
  return registrar;
}

}  // namespace sonic::client::internal
