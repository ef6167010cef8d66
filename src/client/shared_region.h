// The shared-memory region of one TritonClient through its life: the resource that holds the
// tensors (a system or CUDA region registered with the current server, or the heap), where the
// current dispatch lies in it, and what becomes of it when a dispatch fails (unregistered before
// the next one), when the server refuses it or a device copy fails (given up for the messages
// for the rest of the client's life), and on failover (a new resource for the new server; the
// old region stays mapped for the outputs of the requests it answered until they are reset).
//
// Registration RPCs run on the calling thread, bounded by kRegisterBound and kReleaseBound: a
// hung server never holds a dispatch or a teardown for longer. Thread-compatible: the client
// uses it from one dispatch at a time.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/grpc_service.pb.h"
#include "memory_resource.h"
#include "region_layout.h"
#include "region_registrars.h"
#include "request_plan.h"
#include "sonic/client/triton_client.h"

namespace sonic::client::internal {

class SharedRegion {
 public:
  // The longest waits for a region's registration and unregistration. A local server answers in
  // milliseconds, but a busy machine (sanitized tests on two cores) has taken over a second; a
  // hung server holds a client's teardown no longer than kReleaseBound.
  static constexpr absl::Duration kRegisterBound = absl::Seconds(10);
  static constexpr absl::Duration kReleaseBound = absl::Seconds(3);

  struct Options {
    SharedMemoryMode mode = SharedMemoryMode::kAuto;
    int cuda_device = 0;                               // for kCuda
    absl::Duration setup_timeout = absl::Seconds(60);  // bounds registration (with kRegisterBound)
  };

  // The resource `options` ask for the server at `address`: CUDA shared memory, system shared
  // memory for a local server, or the heap. Registration RPCs go to the server `stub` returns
  // when they are made. Errors: CreateCudaShmResource's (not built, device not visible).
  static absl::StatusOr<std::unique_ptr<SharedRegion>> Create(const Options& options,
                                                              const std::string& address,
                                                              transport::StubSource stub);

  // Lays out a dispatch, growing the region when needed; unregisters first after a failed
  // dispatch. Without a region (the heap, nothing of fixed size) no request has a layout. When
  // the region cannot be reserved it is given up (GiveUp) and that error is returned: the
  // dispatch goes on in the messages.
  absl::Status LayOut(const RequestPlan& plan, const std::vector<const TritonInputData*>& inputs,
                      const std::map<std::string, TritonOutputData>& outputs, bool batched);

  // Whether the current dispatch has tensors in the region.
  bool InUse() const { return !layouts_.empty(); }
  // Whether request `i` of the dispatch has tensors in the region.
  bool InRegion(size_t i) const {
    return i < layouts_.size() && !(layouts_[i].inputs.empty() && layouts_[i].outputs.empty());
  }
  // For BuildRequest: the inputs of request `i` in the region (empty when none).
  std::vector<bool> InputsInRegion(size_t i) const;
  // Writes the region inputs of request `i` and points `request` at its slots (InRegion(i)).
  void Place(size_t i, const std::vector<const TritonInputData*>& inputs,
             const PlannedRequest& planned, inference::ModelInferRequest& request);
  // The region outputs of request `i`, for ReadResponse (empty when none).
  std::map<std::string, std::span<const std::byte>> Outputs(size_t i) const;

  // Makes the dispatch's inputs visible to the server. On an error (a failed device copy) the
  // region is given up and the error returned: the requests must be built again.
  absl::Status FlushInputs();
  // Makes the dispatch's outputs readable (from the retired region after a failover).
  absl::Status FetchOutputs();

  // The server refused the region, or a copy failed, and would again: the heap from now on.
  void GiveUp();
  // A dispatch failed: the region is unregistered (and a new one made) before the next one.
  void ReleaseBeforeNextDispatch() { release_ = true; }
  // A failover to `address`: the next dispatch uses a new resource registered there (the heap
  // if it cannot be made). The current dispatch's region stays mapped until Reset().
  void MoveTo(const std::string& address, transport::StubSource stub);
  // Request `i` of the current dispatch puts everything in the messages (after a failover).
  void Forget(size_t i);
  // The outputs were reset: the dispatch's layout is forgotten and a retired region unmapped.
  void Reset();

 private:
  SharedRegion(const Options& options, std::unique_ptr<transport::MemoryResource> memory)
      : options_(options), memory_(std::move(memory)) {}

  static absl::StatusOr<std::unique_ptr<transport::MemoryResource>> MakeResource(
      const Options& options, const std::string& address, transport::StubSource stub);

  Options options_;
  std::vector<RequestLayout> layouts_;
  RegionExtent extent_;
  std::span<std::byte> bytes_;
  bool release_ = false;
  // The region of the dispatch in flight after a failover (its answered outputs point there),
  // and the current resource.
  std::unique_ptr<transport::MemoryResource> retired_;
  std::unique_ptr<transport::MemoryResource> memory_;
};

}  // namespace sonic::client::internal
