// CUDA shared memory through a running sonic-server, as far as a machine without a GPU can see
// it: the CudaSharedMemory* RPCs' argument checks and errors (UNIMPLEMENTED in a build without
// CUDA), and the one namespace of names shared with system regions. Opening a real IPC handle
// needs a second process with a GPU and is not tested here.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "server/cuda/cuda_devices.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;

const std::string kZeroHandle(64, '\0');  // the size of a serialized cudaIpcMemHandle_t

class ServerCudaShmTest : public SharedServerTest<ServerCudaShmTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() { return StartTestServer({}); }

 protected:
  grpc::Status Register(const std::string& name, const std::string& handle, int64_t device,
                        uint64_t byte_size) {
    inference::CudaSharedMemoryRegisterRequest request;
    request.set_name(name);
    request.set_raw_handle(handle);
    request.set_device_id(device);
    request.set_byte_size(byte_size);
    inference::CudaSharedMemoryRegisterResponse response;
    return stub_->CudaSharedMemoryRegister(NewContext().get(), request, &response);
  }
  grpc::Status Unregister(const std::string& name) {
    inference::CudaSharedMemoryUnregisterRequest request;
    request.set_name(name);
    inference::CudaSharedMemoryUnregisterResponse response;
    return stub_->CudaSharedMemoryUnregister(NewContext().get(), request, &response);
  }
  grpc::Status Status(const std::string& name, inference::CudaSharedMemoryStatusResponse* out) {
    inference::CudaSharedMemoryStatusRequest request;
    request.set_name(name);
    return stub_->CudaSharedMemoryStatus(NewContext().get(), request, out);
  }
};

TEST_F(ServerCudaShmTest, WithoutCudaRegisterIsUnimplemented) {
  if (server::CudaSupportBuilt()) GTEST_SKIP() << "built with CUDA";
  grpc::Status status = Register("r", kZeroHandle, 0, 64);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), HasSubstr("built without CUDA"));
}

TEST_F(ServerCudaShmTest, RegisterChecksItsArguments) {
  if (!server::CudaSupportBuilt()) GTEST_SKIP() << "built without CUDA";
  grpc::Status short_handle = Register("r", "abc", 0, 64);
  EXPECT_EQ(short_handle.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(short_handle.error_message(), HasSubstr("raw_handle has 3 bytes"));
  EXPECT_EQ(Register("r", kZeroHandle, 0, 0).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status no_device = Register("r", kZeroHandle, 1 << 20, 64);
  EXPECT_EQ(no_device.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_device.error_message(), HasSubstr("CUDA device 1048576 does not exist"));
  inference::CudaSharedMemoryStatusResponse none;
  ASSERT_TRUE(Status("", &none).ok());
  EXPECT_EQ(none.regions_size(), 0);
}

TEST_F(ServerCudaShmTest, UnknownRegionsAreInvalidArguments) {
  inference::CudaSharedMemoryStatusResponse response;
  ASSERT_TRUE(Status("", &response).ok());
  EXPECT_EQ(Status("zzz", &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Unregister("zzz").ok()) << "as Triton: not registered is already unregistered";
  EXPECT_TRUE(Unregister("").ok());
}

TEST_F(ServerCudaShmTest, SystemAndCudaRegionsShareOneNamespace) {
  const std::string key = absl::StrCat("/sonic_server_cuda_shm_test_", getpid());
  int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 64), 0);
  close(fd);
  inference::SystemSharedMemoryRegisterRequest system;
  system.set_name("shared");
  system.set_key(key);
  system.set_byte_size(64);
  inference::SystemSharedMemoryRegisterResponse registered;
  ASSERT_TRUE(stub_->SystemSharedMemoryRegister(NewContext().get(), system, &registered).ok());

  EXPECT_EQ(Register("shared", kZeroHandle, 0, 64).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  // The CUDA RPCs do not see (or drop) a system region.
  inference::CudaSharedMemoryStatusResponse cuda;
  EXPECT_EQ(Status("shared", &cuda).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Unregister("shared").ok()) << "a no-op: not a CUDA region";
  EXPECT_TRUE(Unregister("").ok());
  inference::SystemSharedMemoryStatusRequest status;
  status.set_name("shared");
  inference::SystemSharedMemoryStatusResponse still;
  EXPECT_TRUE(stub_->SystemSharedMemoryStatus(NewContext().get(), status, &still).ok());

  inference::SystemSharedMemoryUnregisterRequest drop;
  inference::SystemSharedMemoryUnregisterResponse dropped;
  EXPECT_TRUE(stub_->SystemSharedMemoryUnregister(NewContext().get(), drop, &dropped).ok());
  shm_unlink(key.c_str());
}

}  // namespace
}  // namespace sonic::testing
