#include "shared_region.h"

#include <algorithm>
#include <utility>

#include "cuda_shm_resource.h"
#include "grpc_call.h"

namespace sonic::client::internal {
namespace {

transport::ContextSource WithTimeout(absl::Duration timeout) {
  return [timeout] {
    auto context = std::make_unique<grpc::ClientContext>();
    transport::SetTimeout(*context, timeout);
    return context;
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<transport::MemoryResource>> SharedRegion::MakeResource(
    const Options& options, const std::string& address, transport::StubSource stub) {
  // Registering runs on the dispatching thread (when the region grows), unregistering after a
  // failed dispatch and at teardown: neither waits long on a dead or hung server. A refused or
  // late registration means tensors in the messages; the region is the client's own anyway.
  transport::ContextSource new_context =
      WithTimeout(std::min(options.setup_timeout, kRegisterBound));
  transport::ContextSource release_context = WithTimeout(kReleaseBound);
  switch (options.mode) {
    case SharedMemoryMode::kCuda:
      return transport::CreateCudaShmResource(
          options.cuda_device,
          transport::CudaShmRpcs(std::move(stub), std::move(new_context), release_context));
    case SharedMemoryMode::kAuto:
      if (!transport::IsLocalAddress(address)) break;
      return std::make_unique<transport::SystemShmResource>(
          transport::SystemShmRpcs(std::move(stub), std::move(new_context), release_context));
    case SharedMemoryMode::kOff:
      break;
  }
  return std::make_unique<transport::HeapResource>();
}

absl::StatusOr<std::unique_ptr<SharedRegion>> SharedRegion::Create(const Options& options,
                                                                   const std::string& address,
                                                                   transport::StubSource stub) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<transport::MemoryResource> memory,
                         MakeResource(options, address, std::move(stub)));
  return std::unique_ptr<SharedRegion>(new SharedRegion(options, std::move(memory)));
}

absl::Status SharedRegion::LayOut(const RequestPlan& plan,
                                  const std::vector<const TritonInputData*>& inputs,
                                  const std::map<std::string, TritonOutputData>& outputs,
                                  bool batched) {
  Reset();
  if (release_) memory_->Release();
  release_ = false;
  if (!memory_->shared()) return absl::OkStatus();
  std::vector<RequestLayout> layouts;
  const RegionExtent extent = LayOutRegion(plan, inputs, outputs, batched, layouts);
  if (extent.size == 0) return absl::OkStatus();
  if (absl::Status reserved = memory_->Reserve(extent.size); !reserved.ok()) {
    GiveUp();
    return reserved;
  }
  layouts_ = std::move(layouts);
  extent_ = extent;
  bytes_ = memory_->data();
  return absl::OkStatus();
}

std::vector<bool> SharedRegion::InputsInRegion(size_t i) const {
  return InRegion(i) ? internal::InputsInRegion(layouts_[i]) : std::vector<bool>();
}

void SharedRegion::Place(size_t i, const std::vector<const TritonInputData*>& inputs,
                         const PlannedRequest& planned, inference::ModelInferRequest& request) {
  PlaceInRegion(layouts_[i], memory_->region(), bytes_, inputs, planned, request);
}

std::map<std::string, std::span<const std::byte>> SharedRegion::Outputs(size_t i) const {
  if (!InRegion(i)) return {};
  return RegionOutputs(layouts_[i], bytes_);
}

absl::Status SharedRegion::FlushInputs() {
  if (layouts_.empty()) return absl::OkStatus();
  absl::Status flushed = memory_->Flush(0, extent_.input_end);
  if (!flushed.ok()) GiveUp();
  return flushed;
}

absl::Status SharedRegion::FetchOutputs() {
  if (layouts_.empty()) return absl::OkStatus();
  transport::MemoryResource& region = retired_ ? *retired_ : *memory_;
  return region.Fetch(extent_.output_begin, extent_.size - extent_.output_begin);
}

void SharedRegion::GiveUp() {
  memory_ = std::make_unique<transport::HeapResource>();
  layouts_.clear();
  extent_ = {};
  bytes_ = {};
}

void SharedRegion::MoveTo(const std::string& address, transport::StubSource stub) {
  // A second failover in one dispatch: the region of the layouts is already retired, and the
  // current resource has not reserved anything yet.
  if (!retired_) retired_ = std::move(memory_);
  absl::StatusOr<std::unique_ptr<transport::MemoryResource>> memory =
      MakeResource(options_, address, std::move(stub));
  // Create() accepted these options, so only a device that has gone away fails here.
  memory_ = memory.ok() ? *std::move(memory) : std::make_unique<transport::HeapResource>();
}

void SharedRegion::Forget(size_t i) {
  if (InRegion(i)) layouts_[i] = RequestLayout();
}

void SharedRegion::Reset() {
  layouts_.clear();
  extent_ = {};
  bytes_ = {};
  retired_.reset();
}

}  // namespace sonic::client::internal
