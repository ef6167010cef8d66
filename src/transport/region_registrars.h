// The shared-memory registration RPCs behind the memory resources' registrars, for a TritonClient
// and for `sonic perf`. Each call runs on the stub `stub()` returns when it is made (the current
// server, which changes on failover) with a fresh context from `new_context()` (the caller's
// deadline). Errors: the server's code, the message prefixed with the RPC's name.
//
// Thread-safety: the registrars are as thread-safe as the two functions they were given.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>

#include "cuda_shm_resource.h"
#include "inference/grpc_service.grpc.pb.h"
#include "memory_resource.h"

namespace sonic::transport {

using StubSource = std::function<inference::GRPCInferenceService::Stub*()>;
using ContextSource = std::function<std::unique_ptr<grpc::ClientContext>()>;

// SystemSharedMemoryRegister / SystemSharedMemoryUnregister (offset 0). Unregistering uses
// `release_context` when given (a shorter deadline: teardown must not wait on a hung server).
ShmRegistrar SystemShmRpcs(StubSource stub, ContextSource new_context,
                           ContextSource release_context = nullptr);

// CudaSharedMemoryRegister / CudaSharedMemoryUnregister; `release_context` as above.
CudaShmRegistrar CudaShmRpcs(StubSource stub, ContextSource new_context,
                             ContextSource release_context = nullptr);

}  // namespace sonic::transport
