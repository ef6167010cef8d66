// SharedRegion against an in-process server that answers the system shared-memory RPCs (and can
// refuse them): where a dispatch's tensors go, giving the region up, releasing it after a failed
// dispatch, and keeping the old region through a failover until the outputs are reset.
#include "shared_region.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "absl/synchronization/mutex.h"
#include "inference/grpc_service.grpc.pb.h"
#include "io_access.h"

namespace sonic::client::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Records the regions registered and unregistered; refuses registrations when told to.
class RegistrationService final : public inference::GRPCInferenceService::Service {
 public:
  grpc::Status SystemSharedMemoryRegister(
      grpc::ServerContext*, const inference::SystemSharedMemoryRegisterRequest* request,
      inference::SystemSharedMemoryRegisterResponse*) override {
    absl::MutexLock lock(&mu_);
    if (refuse_) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "refused");
    registered_.push_back(request->name());
    return grpc::Status::OK;
  }
  grpc::Status SystemSharedMemoryUnregister(
      grpc::ServerContext*, const inference::SystemSharedMemoryUnregisterRequest* request,
      inference::SystemSharedMemoryUnregisterResponse*) override {
    absl::MutexLock lock(&mu_);
    unregistered_.push_back(request->name());
    return grpc::Status::OK;
  }

  void Refuse() {
    absl::MutexLock lock(&mu_);
    refuse_ = true;
  }
  std::vector<std::string> registered() {
    absl::MutexLock lock(&mu_);
    return registered_;
  }
  std::vector<std::string> unregistered() {
    absl::MutexLock lock(&mu_);
    return unregistered_;
  }

 private:
  absl::Mutex mu_;
  bool refuse_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> registered_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> unregistered_ ABSL_GUARDED_BY(mu_);
};

// One request of one entry: input "x" (4 floats) and fixed-size output "y" (2 floats).
class SharedRegionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = inference::GRPCInferenceService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));

    input_ = std::make_unique<TritonInputData>(
        TensorInfo{"x", DataType::kFp32, {4}, false, false, false}, "model 'm'");
    auto data = *input_->allocate<float>();
    (*data)[0] = {1.0f, 2.0f, 3.0f, 4.0f};
    ASSERT_TRUE(input_->toServer(data).ok());
    inputs_ = {input_.get()};
    outputs_.try_emplace("y", TensorInfo{"y", DataType::kFp32, {2}, false, false, false}, "m");
    plan_.requests = {PlannedRequest{0, 1}};
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<SharedRegion> Create(const std::string& address,
                                       SharedMemoryMode mode = SharedMemoryMode::kAuto) {
    absl::StatusOr<std::unique_ptr<SharedRegion>> region =
        SharedRegion::Create({.mode = mode, .cuda_device = 0, .setup_timeout = absl::Seconds(10)},
                             address, [this] { return stub_.get(); });
    EXPECT_TRUE(region.ok()) << region.status();
    return region.ok() ? *std::move(region) : nullptr;
  }

  absl::Status LayOut(SharedRegion& region) {
    return region.LayOut(plan_, inputs_, outputs_, false);
  }

  RegistrationService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  std::unique_ptr<TritonInputData> input_;
  std::vector<const TritonInputData*> inputs_;
  std::map<std::string, TritonOutputData> outputs_;
  RequestPlan plan_;
};

TEST_F(SharedRegionTest, ALocalServerGetsTheTensorsInTheRegion) {
  std::unique_ptr<SharedRegion> region = Create("127.0.0.1:8001");
  ASSERT_TRUE(LayOut(*region).ok());
  ASSERT_TRUE(region->InUse());
  EXPECT_TRUE(region->InRegion(0));
  EXPECT_THAT(region->InputsInRegion(0), ElementsAre(true));
  ASSERT_EQ(service_.registered().size(), 1u);

  inference::ModelInferRequest request;
  request.add_inputs()->set_name("x");
  request.add_outputs()->set_name("y");
  region->Place(0, inputs_, plan_.requests[0], request);
  EXPECT_EQ(request.inputs(0).parameters().at("shared_memory_region").string_param(),
            service_.registered()[0]);
  EXPECT_EQ(request.inputs(0).parameters().at("shared_memory_byte_size").int64_param(), 16);
  EXPECT_TRUE(region->FlushInputs().ok());
  EXPECT_TRUE(region->FetchOutputs().ok());
  std::map<std::string, std::span<const std::byte>> outputs = region->Outputs(0);
  ASSERT_EQ(outputs.count("y"), 1u);
  EXPECT_EQ(outputs["y"].size(), 2 * sizeof(float));
}

TEST_F(SharedRegionTest, RemoteServersAndModeOffUseTheMessages) {
  std::vector<std::unique_ptr<SharedRegion>> regions;
  regions.push_back(Create("10.0.0.2:8001"));
  regions.push_back(Create("127.0.0.1:8001", SharedMemoryMode::kOff));
  for (const std::unique_ptr<SharedRegion>& region : regions) {
    EXPECT_TRUE(LayOut(*region).ok());
    EXPECT_FALSE(region->InUse());
    EXPECT_THAT(region->InputsInRegion(0), IsEmpty());
    EXPECT_THAT(region->Outputs(0), IsEmpty());
  }
  EXPECT_THAT(service_.registered(), IsEmpty());
}

TEST_F(SharedRegionTest, ARefusedRegionIsGivenUpForGood) {
  service_.Refuse();
  std::unique_ptr<SharedRegion> region = Create("127.0.0.1:8001");
  EXPECT_FALSE(LayOut(*region).ok());
  EXPECT_FALSE(region->InUse());
  EXPECT_TRUE(LayOut(*region).ok());  // the heap now: nothing is asked again
  EXPECT_FALSE(region->InUse());
}

TEST_F(SharedRegionTest, AFailedDispatchReleasesTheRegionBeforeTheNext) {
  std::unique_ptr<SharedRegion> region = Create("127.0.0.1:8001");
  ASSERT_TRUE(LayOut(*region).ok());
  ASSERT_TRUE(LayOut(*region).ok());
  EXPECT_EQ(service_.registered().size(), 1u);  // reused while large enough
  region->ReleaseBeforeNextDispatch();
  ASSERT_TRUE(LayOut(*region).ok());
  ASSERT_EQ(service_.registered().size(), 2u);
  EXPECT_THAT(service_.unregistered(), ElementsAre(service_.registered()[0]));
  EXPECT_TRUE(region->InUse());
}

TEST_F(SharedRegionTest, AFailoverKeepsTheOldRegionUntilReset) {
  std::unique_ptr<SharedRegion> region = Create("127.0.0.1:8001");
  ASSERT_TRUE(LayOut(*region).ok());
  region->MoveTo("10.0.0.2:8001", [this] { return stub_.get(); });
  EXPECT_TRUE(region->InUse());  // the answered requests' outputs are still there
  EXPECT_TRUE(region->FetchOutputs().ok());
  EXPECT_EQ(region->Outputs(0).count("y"), 1u);
  region->Forget(0);
  EXPECT_FALSE(region->InRegion(0));
  EXPECT_THAT(service_.unregistered(), IsEmpty());
  region->Reset();  // the retired region goes: unregistered from the old server
  EXPECT_THAT(service_.unregistered(), ElementsAre(service_.registered()[0]));
  ASSERT_TRUE(LayOut(*region).ok());
  EXPECT_FALSE(region->InUse());  // the new server is remote: the messages
}

}  // namespace
}  // namespace sonic::client::internal
