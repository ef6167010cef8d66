// System shared memory through a running sonic-server: the SystemSharedMemory* RPCs, inputs
// read from and outputs written into POSIX shm regions that this test (the client) creates,
// results identical to the same request through gRPC messages for every datatype, bounds
// errors, and a region unregistered while a slow request is using it.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;

// A POSIX shm object created (and unlinked at the end) by the test, as a client would.
class ShmObject {
 public:
  explicit ShmObject(size_t size)
      : key_(absl::StrCat("/sonic_server_shm_test_", getpid(), "_", counter_++)), size_(size) {
    int fd = shm_open(key_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    data_ = static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
    std::memset(data_, 0, size);
  }
  ~ShmObject() {
    munmap(data_, size_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  char* data() { return data_; }

 private:
  static inline int counter_ = 0;
  std::string key_;
  size_t size_;
  char* data_ = nullptr;
};

void SetShm(google::protobuf::Map<std::string, inference::InferParameter>& parameters,
            const std::string& region, int64_t byte_size, int64_t offset) {
  parameters["shared_memory_region"].set_string_param(region);
  parameters["shared_memory_byte_size"].set_int64_param(byte_size);
  parameters["shared_memory_offset"].set_int64_param(offset);
}

class ServerShmTest : public SharedServerTest<ServerShmTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() { return StartTestServer({}); }

 protected:
  void TearDown() override {
    if (stub_) Unregister("");
  }

  grpc::Status Register(const std::string& name, const std::string& key, uint64_t offset,
                        uint64_t byte_size) {
    inference::SystemSharedMemoryRegisterRequest request;
    request.set_name(name);
    request.set_key(key);
    request.set_offset(offset);
    request.set_byte_size(byte_size);
    inference::SystemSharedMemoryRegisterResponse response;
    return stub_->SystemSharedMemoryRegister(NewContext().get(), request, &response);
  }
  grpc::Status Unregister(const std::string& name) {
    inference::SystemSharedMemoryUnregisterRequest request;
    request.set_name(name);
    inference::SystemSharedMemoryUnregisterResponse response;
    return stub_->SystemSharedMemoryUnregister(NewContext().get(), request, &response);
  }
  grpc::Status Status(const std::string& name, inference::SystemSharedMemoryStatusResponse* out) {
    inference::SystemSharedMemoryStatusRequest request;
    request.set_name(name);
    return stub_->SystemSharedMemoryStatus(NewContext().get(), request, out);
  }
};

// Bytes of one identity_all_types input: arbitrary bit patterns, BYTES length-prefixed.
std::pair<std::string, int64_t> TypeData(const std::string& type, size_t element_size, int seed) {
  std::string raw;
  if (type == "BYTES") {
    for (const std::string& item :
         {std::string(), std::string("hello"), std::string("\0\xff\x01zero", 7)}) {
      uint32_t length = static_cast<uint32_t>(item.size());
      raw.append(reinterpret_cast<const char*>(&length), 4);
      raw.append(item);
    }
    return {raw, 3};
  }
  if (type == "BOOL") return {std::string("\1\0\1\1\0\0", 6), 6};
  for (size_t i = 0; i < 6 * element_size; ++i) {
    raw.push_back(static_cast<char>((seed * 37 + static_cast<int>(i) * 101) & 0xff));
  }
  return {raw, 6};
}

TEST_F(ServerShmTest, EveryDatatypeRoundTripsIdenticallyThroughSharedMemory) {
  const std::vector<std::pair<std::string, size_t>> types = {
      {"BOOL", 1}, {"UINT8", 1}, {"UINT16", 2}, {"UINT32", 4}, {"UINT64", 8},
      {"INT8", 1}, {"INT16", 2}, {"INT32", 4},  {"INT64", 8},  {"FP16", 2},
      {"FP32", 4}, {"FP64", 8},  {"BYTES", 0},  {"BF16", 2}};
  ShmObject in(1 << 16), out(1 << 16);
  ASSERT_TRUE(Register("in", in.key(), 0, 1 << 16).ok());
  // A region that starts at an offset of its object (not page aligned).
  ASSERT_TRUE(Register("out", out.key(), 100, (1 << 16) - 100).ok());
  inference::ModelInferRequest plain, shm;
  plain.set_model_name("identity_all_types");
  shm.set_model_name("identity_all_types");
  std::map<std::string, std::pair<int64_t, int64_t>> slots;  // output -> offset, size
  int64_t offset = 8;
  int seed = 1;
  for (const auto& [type, size] : types) {
    auto [raw, elements] = TypeData(type, size, seed++);
    for (auto* request : {&plain, &shm}) {
      auto* input = request->add_inputs();
      input->set_name("INPUT_" + type);
      input->set_datatype(type);
      input->add_shape(elements);
      if (request == &plain) {
        request->add_raw_input_contents(raw);
      } else {
        SetShm(*input->mutable_parameters(), "in", static_cast<int64_t>(raw.size()), offset);
        std::memcpy(in.data() + offset, raw.data(), raw.size());
        auto* output = request->add_outputs();
        output->set_name("OUTPUT_" + type);
        SetShm(*output->mutable_parameters(), "out", 64, offset);
        slots["OUTPUT_" + type] = {offset, static_cast<int64_t>(raw.size())};
      }
    }
    offset += 64;
  }
  inference::ModelInferResponse expected, got;
  ASSERT_TRUE(Infer(*stub_, plain, &expected).ok());
  grpc::Status status = Infer(*stub_, shm, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(got.outputs_size(), static_cast<int>(types.size()));
  ASSERT_EQ(got.raw_output_contents_size(), got.outputs_size());  // aligned, all empty
  for (int i = 0; i < got.outputs_size(); ++i) {
    const std::string& name = got.outputs(i).name();
    SCOPED_TRACE(name);
    EXPECT_TRUE(got.raw_output_contents(i).empty());
    const std::string* reference = RawOutput(expected, name);
    ASSERT_NE(reference, nullptr);
    auto [slot_offset, slot_size] = slots[name];
    EXPECT_EQ(std::string(out.data() + 100 + slot_offset, static_cast<size_t>(slot_size)),
              *reference);
    for (const auto& output : expected.outputs()) {
      if (output.name() != name) continue;
      EXPECT_EQ(got.outputs(i).datatype(), output.datatype());
      EXPECT_EQ(got.outputs(i).shape_size(), 1);
      EXPECT_EQ(got.outputs(i).shape(0), output.shape(0));
    }
  }
}

TEST_F(ServerShmTest, MixesSharedMemoryAndRawTensorsInOneRequest) {
  ShmObject region(4096);
  ASSERT_TRUE(Register("r", region.key(), 0, 4096).ok());
  std::vector<float> values = {1.5f, -2, 3, 4.25f};
  std::memcpy(region.data(), values.data(), 16);
  inference::ModelInferRequest request;
  request.set_model_name("identity_fp32");
  auto* input = request.add_inputs();
  input->set_name("INPUT0");
  input->set_datatype("FP32");
  input->add_shape(1);
  input->add_shape(4);
  SetShm(*input->mutable_parameters(), "r", 16, 0);
  request.add_outputs()->set_name("OUTPUT0");  // in the message
  inference::ModelInferResponse response;
  grpc::Status status = Infer(*stub_, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  EXPECT_EQ(FromRaw<float>(response.raw_output_contents(0)), values);
}

inference::ModelInferRequest DelayRequest(int64_t in_offset, int64_t in_size, int64_t out_size) {
  inference::ModelInferRequest request;
  request.set_model_name("identity_delay");
  auto* input = request.add_inputs();
  input->set_name("INPUT0");
  input->set_datatype("FP32");
  input->add_shape(4);
  SetShm(*input->mutable_parameters(), "in", in_size, in_offset);
  auto* output = request.add_outputs();
  output->set_name("OUTPUT0");
  SetShm(*output->mutable_parameters(), "out", out_size, 0);
  return request;
}

TEST_F(ServerShmTest, BoundsAndParameterErrorsAreInvalidArgument) {
  ShmObject in(4096), out(4096);
  grpc::Status status = Register("in", in.key(), 4000, 100);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("out of bounds"));
  status = Register("x", "/sonic_no_such_shm_key", 0, 16);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("No such file"));
  ASSERT_TRUE(Register("in", in.key(), 0, 64).ok());
  EXPECT_EQ(Register("in", in.key(), 0, 64).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Register("out", out.key(), 0, 64).ok());
  inference::ModelInferResponse response;
  // Input window past the region's end.
  status = Infer(*stub_, DelayRequest(56, 16, 16), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("out of bounds"));
  // Byte size not matching the shape.
  status = Infer(*stub_, DelayRequest(0, 12, 16), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("needs 16 bytes"));
  // Output larger than its slot.
  status = Infer(*stub_, DelayRequest(0, 16, 8), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("OUTPUT0"));
  // Offset without a region; unknown region.
  inference::ModelInferRequest no_region = DelayRequest(0, 16, 16);
  no_region.mutable_inputs(0)->mutable_parameters()->erase("shared_memory_region");
  status = Infer(*stub_, no_region, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("without shared_memory_region"));
  inference::ModelInferRequest unknown = DelayRequest(0, 16, 16);
  (*unknown.mutable_inputs(0)->mutable_parameters())["shared_memory_region"].set_string_param(
      "nope");
  status = Infer(*stub_, unknown, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown shared memory region 'nope'"));
}

TEST_F(ServerShmTest, UnregisterWhileASlowRequestUsesTheRegionKeepsItValid) {
  ShmObject in(4096), out(4096);
  std::vector<float> values = {1, 2, 3, 4};
  std::memcpy(in.data(), values.data(), 16);
  ASSERT_TRUE(Register("in", in.key(), 0, 16).ok());
  ASSERT_TRUE(Register("out", out.key(), 0, 16).ok());
  grpc::Status slow_status;
  inference::ModelInferResponse slow_response;
  std::thread slow([&] { slow_status = Infer(*stub_, DelayRequest(0, 16, 16), &slow_response); });
  absl::SleepFor(absl::Milliseconds(100));  // the request runs for 300 ms
  EXPECT_TRUE(Unregister("in").ok());
  EXPECT_TRUE(Unregister("out").ok());
  slow.join();
  ASSERT_TRUE(slow_status.ok()) << slow_status.error_message();
  ASSERT_EQ(slow_response.raw_output_contents_size(), 1);
  EXPECT_TRUE(slow_response.raw_output_contents(0).empty());
  std::vector<float> written(4);
  std::memcpy(written.data(), out.data(), 16);
  EXPECT_EQ(written, values);
  inference::ModelInferResponse response;
  EXPECT_EQ(Infer(*stub_, DelayRequest(0, 16, 16), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServerShmTest, StatusListsRegionsAndUnregisterAllClears) {
  ShmObject object(8192);
  ASSERT_TRUE(Register("a", object.key(), 0, 100).ok());
  ASSERT_TRUE(Register("b", object.key(), 4096, 4096).ok());
  inference::SystemSharedMemoryStatusResponse all;
  ASSERT_TRUE(Status("", &all).ok());
  ASSERT_EQ(all.regions_size(), 2);
  const auto& b = all.regions().at("b");
  EXPECT_EQ(b.name(), "b");
  EXPECT_EQ(b.key(), object.key());
  EXPECT_EQ(b.offset(), 4096u);
  EXPECT_EQ(b.byte_size(), 4096u);
  inference::SystemSharedMemoryStatusResponse one;
  ASSERT_TRUE(Status("a", &one).ok());
  EXPECT_EQ(one.regions_size(), 1);
  inference::SystemSharedMemoryStatusResponse none;
  EXPECT_EQ(Status("zzz", &none).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Unregister("zzz").ok()) << "as Triton: not registered is already unregistered";
  ASSERT_TRUE(Unregister("").ok());
  inference::SystemSharedMemoryStatusResponse cleared;
  ASSERT_TRUE(Status("", &cleared).ok());
  EXPECT_EQ(cleared.regions_size(), 0);
}

}  // namespace
}  // namespace sonic::testing
