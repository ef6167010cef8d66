// The C entry points of a plugin backend (include/sonic/backend/backend_api.h) made from its two
// C++ classes, so that a plugin writes only those and one line of table:
//
//   class Model {
//     static absl::StatusOr<std::unique_ptr<Model>> Create(const SonicBackendModelSpec&);
//     absl::StatusOr<std::unique_ptr<Instance>> CreateInstance(const SonicBackendInstanceSpec&);
//   };
//   class Instance {
//     absl::Status Execute(std::span<const SonicBackendTensor> inputs,
//                          std::span<const char* const> output_names, uint64_t batch_size,
//                          const SonicBackendOutputAllocator& allocator);
//   };
//   constexpr char kName[] = "fil";
//   using EntryPoints = BackendEntryPoints<kName, FilModel, FilInstance>;
//   ... SonicBackendGetApi() { return &EntryPoints::kApi; }
//
// Every entry point catches every exception (GuardedCall) and destruction never throws out, so
// nothing crosses the C boundary. Included by plugins only: it defines the opaque model and
// instance types, which the built-in identity backend defines its own way.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "backends/common/backend_error.h"
#include "sonic/backend/backend_api.h"
#include "sonic/common/status.h"

// The opaque types of backend_api.h: each holds one object of the plugin's classes.
struct SonicBackendModel {
  virtual ~SonicBackendModel() = default;
};
struct SonicBackendInstance {
  virtual ~SonicBackendInstance() = default;
};

namespace sonic::backends {

template <const char* kName, typename Model, typename Instance>
class BackendEntryPoints {
 public:
  // The plugin's instance behind a handle the server passes back (for a plugin's further entry
  // points, such as SonicBackendGetRequestApi's).
  static Instance& InstanceOf(SonicBackendInstance* instance) {
    return *static_cast<HeldInstance*>(instance)->object;
  }

 private:
  struct HeldModel final : SonicBackendModel {
    explicit HeldModel(std::unique_ptr<Model> held) : object(std::move(held)) {}
    std::unique_ptr<Model> object;
  };
  struct HeldInstance final : SonicBackendInstance {
    explicit HeldInstance(std::unique_ptr<Instance> held) : object(std::move(held)) {}
    std::unique_ptr<Instance> object;
  };

  static inline const std::string kModelCreate = std::string(kName) + " model_create";
  static inline const std::string kInstanceCreate = std::string(kName) + " instance_create";
  static inline const std::string kInstanceExecute = std::string(kName) + " instance_execute";

  static SonicBackendError* ModelCreate(const SonicBackendModelSpec* spec,
                                        SonicBackendModel** model) {
    return GuardedCall(kModelCreate.c_str(), [&]() -> absl::Status {
      SONIC_ASSIGN_OR_RETURN(std::unique_ptr<Model> created, Model::Create(*spec));
      *model = new HeldModel(std::move(created));
      return absl::OkStatus();
    });
  }

  static SonicBackendError* InstanceCreate(SonicBackendModel* model,
                                           const SonicBackendInstanceSpec* spec,
                                           SonicBackendInstance** instance) {
    return GuardedCall(kInstanceCreate.c_str(), [&]() -> absl::Status {
      SONIC_ASSIGN_OR_RETURN(std::unique_ptr<Instance> created,
                             static_cast<HeldModel*>(model)->object->CreateInstance(*spec));
      *instance = new HeldInstance(std::move(created));
      return absl::OkStatus();
    });
  }

  static SonicBackendError* InstanceExecute(SonicBackendInstance* instance,
                                            const SonicBackendTensor* inputs, uint32_t input_count,
                                            const char* const* output_names, uint32_t output_count,
                                            uint64_t batch_size,
                                            const SonicBackendOutputAllocator* allocator) {
    return GuardedCall(kInstanceExecute.c_str(), [&] {
      return InstanceOf(instance).Execute(std::span(inputs, input_count),
                                          std::span(output_names, output_count), batch_size,
                                          *allocator);
    });
  }

  // A destructor that throws (none is expected) has no one to report to: the object is dropped
  // rather than letting the exception cross the boundary.
  template <typename Handle>
  static void Destroy(Handle* handle) {
    try {
      delete handle;
    } catch (...) {
    }
  }

 public:
  // The table SonicBackendGetApi returns (after the functions it names).
  static constexpr SonicBackendApi kApi = {
      .api_version = SONIC_BACKEND_API_VERSION,
      .name = kName,
      .error_code = &BackendErrorCode,
      .error_message = &BackendErrorMessage,
      .error_delete = &BackendErrorDelete,
      .model_create = &ModelCreate,
      .model_destroy = &Destroy<SonicBackendModel>,
      .instance_create = &InstanceCreate,
      .instance_destroy = &Destroy<SonicBackendInstance>,
      .instance_execute = &InstanceExecute,
  };
};

}  // namespace sonic::backends
