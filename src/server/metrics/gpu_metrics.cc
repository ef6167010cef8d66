#include "server/metrics/gpu_metrics.h"

#include <dlfcn.h>

#include <utility>

namespace sonic::server::metrics {
namespace {

// The few NVML types and entry points used, as nvml.h declares them (a stable C ABI), so that
// building needs no NVML header.
using NvmlReturn = int;  // nvmlReturn_t; NVML_SUCCESS is 0
constexpr NvmlReturn kNvmlSuccess = 0;
using NvmlDevice = struct NvmlDeviceOpaque*;  // nvmlDevice_t
struct NvmlUtilization {                     // nvmlUtilization_t
  unsigned int gpu;     // percent of time a kernel ran over the last sample period
  unsigned int memory;  // percent of time device memory was read or written
};
struct NvmlMemory {  // nvmlMemory_t
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr unsigned int kNvmlUuidBufferSize = 96;  // NVML_DEVICE_UUID_V2_BUFFER_SIZE

struct NvmlApi {
  NvmlReturn (*init)();
  NvmlReturn (*shutdown)();
  NvmlReturn (*device_count)(unsigned int*);
  NvmlReturn (*device_by_index)(unsigned int, NvmlDevice*);
  NvmlReturn (*uuid)(NvmlDevice, char*, unsigned int);
  NvmlReturn (*utilization)(NvmlDevice, NvmlUtilization*);
  NvmlReturn (*memory)(NvmlDevice, NvmlMemory*);
};

template <typename Fn>
bool Resolve(void* library, const char* symbol, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(library, symbol));
  return fn != nullptr;
}

bool ResolveAll(void* library, NvmlApi& api) {
  return Resolve(library, "nvmlInit_v2", api.init) &&
         Resolve(library, "nvmlShutdown", api.shutdown) &&
         Resolve(library, "nvmlDeviceGetCount_v2", api.device_count) &&
         Resolve(library, "nvmlDeviceGetHandleByIndex_v2", api.device_by_index) &&
         Resolve(library, "nvmlDeviceGetUUID", api.uuid) &&
         Resolve(library, "nvmlDeviceGetUtilizationRates", api.utilization) &&
         Resolve(library, "nvmlDeviceGetMemoryInfo", api.memory);
}

// NVML is thread-safe, so is this reader.
class NvmlGpuReader : public GpuReader {
 public:
  NvmlGpuReader(void* library, NvmlApi api) : library_(library), api_(api) {}
  ~NvmlGpuReader() override {
    api_.shutdown();
    dlclose(library_);
  }

  std::vector<GpuSample> Read() override {
    std::vector<GpuSample> samples;
    unsigned int count = 0;
    if (api_.device_count(&count) != kNvmlSuccess) return samples;
    for (unsigned int i = 0; i < count; ++i) {
      NvmlDevice device = nullptr;
      char uuid[kNvmlUuidBufferSize] = {};
      if (api_.device_by_index(i, &device) != kNvmlSuccess ||
          api_.uuid(device, uuid, kNvmlUuidBufferSize) != kNvmlSuccess) {
        continue;
      }
      GpuSample sample;
      sample.uuid = uuid;
      if (NvmlUtilization rates{}; api_.utilization(device, &rates) == kNvmlSuccess) {
        sample.utilization = rates.gpu / 100.0;
      }
      if (NvmlMemory memory{}; api_.memory(device, &memory) == kNvmlSuccess) {
        sample.memory_total_bytes = memory.total;
        sample.memory_used_bytes = memory.used;
      }
      samples.push_back(std::move(sample));
    }
    return samples;
  }

 private:
  void* const library_;
  const NvmlApi api_;
};

MetricFamily GpuFamily(const std::vector<GpuSample>& samples, const char* name, const char* help,
                       auto value_of) {
  MetricFamily family{name, help, MetricType::kGauge, {}};
  for (const GpuSample& sample : samples) {
    if (auto value = value_of(sample); value.has_value()) {
      family.samples.push_back({{{"gpu_uuid", sample.uuid}}, static_cast<double>(*value)});
    }
  }
  return family;
}

}  // namespace

std::unique_ptr<GpuReader> LoadNvmlGpuReader(const std::string& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return nullptr;
  NvmlApi api{};
  unsigned int count = 0;
  if (!ResolveAll(handle, api) || api.init() != kNvmlSuccess) {
    dlclose(handle);
    return nullptr;
  }
  if (api.device_count(&count) != kNvmlSuccess || count == 0) {
    api.shutdown();
    dlclose(handle);
    return nullptr;
  }
  return std::make_unique<NvmlGpuReader>(handle, api);
}

void GpuMetricsSource::Collect(std::vector<MetricFamily>& families) {
  const std::vector<GpuSample> samples = reader_->Read();
  families.push_back(GpuFamily(samples, "nv_gpu_utilization",
                               "GPU busy fraction (a kernel running) over NVML's last sample period, 0..1",
                               [](const GpuSample& s) { return s.utilization; }));
  families.push_back(GpuFamily(samples, "nv_gpu_memory_total_bytes",
                               "GPU memory in total, bytes",
                               [](const GpuSample& s) { return s.memory_total_bytes; }));
  families.push_back(GpuFamily(samples, "nv_gpu_memory_used_bytes", "GPU memory in use, bytes",
                               [](const GpuSample& s) { return s.memory_used_bytes; }));
}

std::unique_ptr<MetricsSource> CreateGpuMetricsSource(const std::string& library) {
  std::unique_ptr<GpuReader> reader = LoadNvmlGpuReader(library);
  if (reader == nullptr) return nullptr;
  return std::make_unique<GpuMetricsSource>(std::move(reader));
}

}  // namespace sonic::server::metrics
