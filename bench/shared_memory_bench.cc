// Scenario "shared_memory": 16 MB FP32 tensors round-trip through the identity model
// of a local sonic-server, once with input and output in system shared memory (registered POSIX
// shm regions; the messages carry only parameters) and once inside the gRPC messages
// (raw_input_contents / raw_output_contents), beside the physical floor: memcpy of 16 MB on this
// machine. Reports the round-trip latency shared memory / gRPC payload (target <= 0.5) and
// shared memory / three memcpys (the copies the path inherently makes: the identity backend
// copies input to output, the server copies the output into the region, and the client reads
// it; target <= 4), with bandwidths for information.
//
// Exits 0 whenever it ran (a benchmark is not a test); 1 when it could not run.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench_report.h"
#include "client_load.h"
#include "grpc_call.h"
#include "grpc_channel.h"
#include "inference/grpc_service.grpc.pb.h"
#include "server_process.h"
#include "sonic/common/status.h"

namespace sonic::bench {
namespace {

constexpr char kModel[] = "identity_big";
constexpr size_t kBytes = 16u << 20;  // 16 MiB
constexpr int64_t kElements = kBytes / sizeof(float);

struct Flags {
  int iterations = 30;
  bool quick = false;
  std::string out = SONIC_BENCH_RESULTS_DIR;
};

// One POSIX shm object of kBytes, mapped here and unlinked by the destructor.
class ShmBuffer {
 public:
  static absl::StatusOr<std::unique_ptr<ShmBuffer>> Create(const std::string& key) {
    int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return absl::InternalError(absl::StrCat("shm_open ", key, ": ", strerror(errno)));
    void* data = MAP_FAILED;
    if (ftruncate(fd, kBytes) == 0) {
      data = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    close(fd);
    if (data == MAP_FAILED) {
      shm_unlink(key.c_str());
      return absl::InternalError(absl::StrCat("cannot size or map ", key));
    }
    return std::unique_ptr<ShmBuffer>(new ShmBuffer(key, static_cast<char*>(data)));
  }
  ~ShmBuffer() {
    munmap(data_, kBytes);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  char* data() { return data_; }

 private:
  ShmBuffer(std::string key, char* data) : key_(std::move(key)), data_(data) {}
  std::string key_;
  char* data_;
};

absl::Status WriteRepository(const std::filesystem::path& repository) {
  std::filesystem::create_directories(repository / kModel / "1");
  std::ofstream out(repository / kModel / "config.pbtxt");
  out << "name: \"" << kModel << "\"\nbackend: \"identity\"\nmax_batch_size: 0\n"
      << "input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n"
      << "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n"
      << "instance_group [ { kind: KIND_CPU count: 1 } ]\n";
  if (!out) return absl::InternalError("cannot write the model config");
  return absl::OkStatus();
}

void SetShm(google::protobuf::Map<std::string, inference::InferParameter>& parameters,
            const std::string& region) {
  parameters["shared_memory_region"].set_string_param(region);
  parameters["shared_memory_byte_size"].set_int64_param(static_cast<int64_t>(kBytes));
}

inference::ModelInferRequest Request(bool shm, const std::string& payload) {
  inference::ModelInferRequest request;
  request.set_model_name(kModel);
  auto* input = request.add_inputs();
  input->set_name("INPUT0");
  input->set_datatype("FP32");
  input->add_shape(kElements);
  auto* output = request.add_outputs();
  output->set_name("OUTPUT0");
  if (shm) {
    SetShm(*input->mutable_parameters(), "bench_in");
    SetShm(*output->mutable_parameters(), "bench_out");
  } else {
    request.add_raw_input_contents(payload);
  }
  return request;
}

// Median seconds of `iterations` runs of `fn` (after one warm-up run).
absl::StatusOr<double> MedianSeconds(int iterations, const std::function<absl::Status()>& fn) {
  SONIC_RETURN_IF_ERROR(fn());
  std::vector<double> times;
  for (int i = 0; i < iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    SONIC_RETURN_IF_ERROR(fn());
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

absl::Status Register(inference::GRPCInferenceService::Stub& stub, const std::string& name,
                      const std::string& key) {
  inference::SystemSharedMemoryRegisterRequest request;
  request.set_name(name);
  request.set_key(key);
  request.set_byte_size(kBytes);
  inference::SystemSharedMemoryRegisterResponse response;
  grpc::ClientContext context;
  return transport::FromGrpc(stub.SystemSharedMemoryRegister(&context, request, &response));
}

struct Timings {
  double grpc_s = 0;
  double shm_s = 0;
  double memcpy_s = 0;
};

absl::StatusOr<Timings> Measure(const std::string& address, const Flags& flags) {
  transport::ChannelOptions channel;
  channel.address = address;
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> plain, transport::NewChannel(channel));
  auto stub = inference::GRPCInferenceService::NewStub(std::move(plain));
  std::string payload(kBytes, '\0');
  for (size_t i = 0; i < kBytes; ++i) payload[i] = static_cast<char>(i * 7);
  const std::string prefix = absl::StrCat("/sonic_bench_", getpid(), "_");
  SONIC_ASSIGN_OR_RETURN(auto in, ShmBuffer::Create(prefix + "in"));
  SONIC_ASSIGN_OR_RETURN(auto out, ShmBuffer::Create(prefix + "out"));
  SONIC_RETURN_IF_ERROR(Register(*stub, "bench_in", in->key()));
  SONIC_RETURN_IF_ERROR(Register(*stub, "bench_out", out->key()));
  std::string result(kBytes, '\0');
  const inference::ModelInferRequest grpc_request = Request(false, payload);
  const inference::ModelInferRequest shm_request = Request(true, payload);
  Timings t;
  // Each side includes getting the bytes into and out of the transport: the payload is copied
  // into the request message / the region and the result out of the response / the region.
  SONIC_ASSIGN_OR_RETURN(
      t.grpc_s, MedianSeconds(flags.iterations, [&]() -> absl::Status {
        inference::ModelInferRequest request = grpc_request;
        inference::ModelInferResponse response;
        grpc::ClientContext context;
        SONIC_RETURN_IF_ERROR(transport::FromGrpc(stub->ModelInfer(&context, request, &response)));
        if (response.raw_output_contents(0) != payload) return absl::InternalError("wrong output");
        return absl::OkStatus();
      }));
  SONIC_ASSIGN_OR_RETURN(t.shm_s, MedianSeconds(flags.iterations, [&]() -> absl::Status {
                           std::memcpy(in->data(), payload.data(), kBytes);
                           inference::ModelInferResponse response;
                           grpc::ClientContext context;
                           SONIC_RETURN_IF_ERROR(transport::FromGrpc(
                               stub->ModelInfer(&context, shm_request, &response)));
                           std::memcpy(result.data(), out->data(), kBytes);
                           if (result != payload)
                             return absl::InternalError("wrong output in shared memory");
                           return absl::OkStatus();
                         }));
  SONIC_ASSIGN_OR_RETURN(t.memcpy_s, MedianSeconds(flags.iterations, [&]() -> absl::Status {
                           std::memcpy(result.data(), payload.data(), kBytes);
                           return result[kBytes - 1] == payload[kBytes - 1]
                                      ? absl::OkStatus()
                                      : absl::InternalError("memcpy");
                         }));
  inference::SystemSharedMemoryUnregisterRequest unregister;
  inference::SystemSharedMemoryUnregisterResponse unregistered;
  grpc::ClientContext context;
  SONIC_RETURN_IF_ERROR(
      transport::FromGrpc(stub->SystemSharedMemoryUnregister(&context, unregister, &unregistered)));
  return t;
}

absl::Status Run(const Flags& flags) {
  SONIC_ASSIGN_OR_RETURN(auto dir, testing::TempDirectory::Create("sonic-bench"));
  const std::filesystem::path repository = dir->path() / "models";
  SONIC_RETURN_IF_ERROR(WriteRepository(repository));
  SONIC_ASSIGN_OR_RETURN(auto server, StartServer(repository));
  SONIC_ASSIGN_OR_RETURN(Timings t, Measure(server->address(), flags));
  const double mb = static_cast<double>(kBytes) / 1e6;
  BenchReport report("shared_memory");
  report.AddNote("tensor", "FP32 [4194304] (16 MiB) in and out of the identity backend");
  report.AddNote("timing", absl::StrCat("median of ", flags.iterations,
                                        " sequential round trips after one warm-up, one client"));
  report.AddNote("quick", flags.quick ? "true (few iterations)" : "false");
  report.AddRatio("round trip, shared memory / gRPC payload", t.shm_s * 1e3, "ms", "gRPC payload",
                  t.grpc_s * 1e3, 0.5, /*higher_is_better=*/false);
  report.AddRatio("round trip, shared memory / 3 memcpy", t.shm_s * 1e3, "ms", "3 x memcpy 16 MiB",
                  3 * t.memcpy_s * 1e3, 4.0, /*higher_is_better=*/false);
  report.AddInfo("bandwidth, shared memory", mb / t.shm_s, "MB/s");
  report.AddInfo("bandwidth, gRPC payload", mb / t.grpc_s, "MB/s");
  report.AddInfo("bandwidth, memcpy", mb / t.memcpy_s, "MB/s");
  report.PrintSummary(std::cout);
  const absl::Status written =
      report.WriteJson(flags.out, ReadCommit(SONIC_SOURCE_DIR), ReadMachineFacts());
  if (written.ok()) std::cout << "wrote " << flags.out << "/shared_memory.json\n";
  return written;
}

}  // namespace
}  // namespace sonic::bench

int main(int argc, char** argv) {
  sonic::bench::Flags flags;
  CLI::App app("Shared memory benchmark: 16 MB tensors via shm vs gRPC payload vs memcpy");
  app.add_option("--iterations", flags.iterations, "Measured round trips per path")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--quick", flags.quick, "3 round trips per path (CI smoke run)");
  app.add_option("--out", flags.out, "Directory for shared_memory.json");
  CLI11_PARSE(app, argc, argv);
  if (flags.quick) flags.iterations = 3;
  const absl::Status status = sonic::bench::Run(flags);
  if (!status.ok()) {
    std::cerr << "shared_memory benchmark failed: " << status << "\n";
    return 1;
  }
  return 0;
}
