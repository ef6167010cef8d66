#include "region_registrars.h"

#include <string>
#include <utility>

#include "grpc_call.h"

namespace sonic::transport {

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
    return FromGrpc(stub()->SystemSharedMemoryRegister(new_context().get(), request, &response),
                    "SystemSharedMemoryRegister");
  };
  registrar.unregister_region = [stub, release_context](const std::string& name) {
    inference::SystemSharedMemoryUnregisterRequest request;
    request.set_name(name);
    inference::SystemSharedMemoryUnregisterResponse response;
    return FromGrpc(
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
    return FromGrpc(stub()->CudaSharedMemoryRegister(new_context().get(), request, &response),
                    "CudaSharedMemoryRegister");
  };
  registrar.unregister_region = [stub, release_context](const std::string& name) {
    inference::CudaSharedMemoryUnregisterRequest request;
    request.set_name(name);
    inference::CudaSharedMemoryUnregisterResponse response;
    return FromGrpc(stub()->CudaSharedMemoryUnregister(release_context().get(), request, &response),
                    "CudaSharedMemoryUnregister");
  };
  return registrar;
}

}  // namespace sonic::transport
