// TorchScript operator libraries against the real sonic-server: a model calling
// sonic_test::scaled_add (libsonic_test_ops.so, built with TORCH_LIBRARY) serves when its config
// names the library (OPERATOR_LIBRARIES, relative to the version directory) or the server's
// --backend-config=pytorch,operator-libraries names it, with the outputs of the same module run
// in this process; without the library the model is UNAVAILABLE with one line naming the
// operator, while the other models serve.
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/script.h>

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "sonic/common/status.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// `sonic_test.scaled_add` is the operator sonic_test::scaled_add (OperatorNamespaceResolver);
// saved, the module calls it as ops.sonic_test.scaled_add, as a scripted PyG model does.
constexpr char kModelSource[] = R"(
def forward(self, a, b):
    return sonic_test.scaled_add(a, b, 2.5)
)";

// Resolves `sonic_test` to the operator namespace, which LibTorch's C++ compiler does not do for
// torch.ops.<namespace> (only Python's frontend does); `torch` as LibTorch's own resolver does.
struct OperatorNamespaceResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name,
                                                         torch::jit::GraphFunction&,
                                                         const torch::jit::SourceRange&) override {
    if (name == "torch") return std::make_shared<torch::jit::BuiltinModule>("aten");
    if (name == "sonic_test") return std::make_shared<torch::jit::BuiltinModule>("sonic_test");
    return nullptr;
  }
  c10::TypePtr resolveType(const std::string&, const torch::jit::SourceRange&) override {
    return nullptr;
  }
};

// Compiles kModelSource (the operator must be registered in this process) and saves it.
absl::Status WriteOpsModule(const fs::path& file) {
  try {
    std::error_code error;
    fs::create_directories(file.parent_path(), error);
    torch::jit::Module module("TestModule");
    module.define(kModelSource, std::make_shared<OperatorNamespaceResolver>());
    module.save(file.string());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot write ", file.string(), ": ", e.what()));
  }
  return absl::OkStatus();
}

// The library registers its operator in this process too, so that the model compiles here and
// runs here as the reference. The servers are other processes: they know only what they load.
bool LoadOperatorsHere() {
  static const bool loaded = ::dlopen(SONIC_TEST_OPS_LIBRARY, RTLD_NOW | RTLD_GLOBAL) != nullptr;
  return loaded;
}

// Model `name`: the scaled_add module, inputs a and b FP32 [-1] batched up to 8, output
// OUTPUT__0; `parameters` is added to the config as written.
absl::Status WriteOpsModel(const fs::path& repository, const std::string& name,
                           const std::string& parameters = "") {
  const std::string config =
      absl::StrCat("name: \"", name, "\"\nbackend: \"pytorch\"\nmax_batch_size: 8\n",
                   "input [ { name: \"a\" data_type: TYPE_FP32 dims: [ -1 ] },\n",
                   "        { name: \"b\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n",
                   "output [ { name: \"OUTPUT__0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n",
                   "instance_group [ { kind: KIND_CPU count: 1 } ]\n", parameters);
  SONIC_RETURN_IF_ERROR(WriteFileAtomically(repository / name / "config.pbtxt", config));
  return WriteOpsModule(repository / name / "1" / "model.pt");
}

std::string LibraryParameter(const std::string& value) {
  return absl::StrCat("parameters { key: \"OPERATOR_LIBRARIES\" value { string_value: \"", value,
                      "\" } }\n");
}

class ServerOperatorLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
    ASSERT_TRUE(LoadOperatorsHere()) << ::dlerror();
  }

  // a + 2.5 * b through `model` on `server`, checked against the module run in this process.
  void ExpectServes(const TestServer& server, const std::string& model) {
    auto stub = NewStub(server.server->address());
    const std::vector<float> a = {1.0f, -2.0f, 3.5f, 0.25f, 8.0f, -1.5f};
    const std::vector<float> b = {0.5f, 4.0f, -1.0f, 2.0f, 0.125f, 3.0f};
    inference::ModelInferRequest request = Fp32Request(model, "a", {2, 3}, a);
    request.add_inputs()->CopyFrom(request.inputs(0));
    request.mutable_inputs(1)->set_name("b");
    request.add_raw_input_contents(ToRaw(b));
    inference::ModelInferResponse response;
    grpc::Status status = Infer(*stub, request, &response);
    ASSERT_TRUE(status.ok()) << model << ": " << status.error_message();
    const std::string* raw = RawOutput(response, "OUTPUT__0");
    ASSERT_NE(raw, nullptr);
    const std::vector<float> served = FromRaw<float>(*raw);

    torch::jit::Module module =
        torch::jit::load((server.repository() / model / "1" / "model.pt").string());
    std::vector<float> a_copy = a, b_copy = b;
    at::Tensor expected = module
                              .forward({torch::from_blob(a_copy.data(), {2, 3}),
                                        torch::from_blob(b_copy.data(), {2, 3})})
                              .toTensor()
                              .contiguous();
    ASSERT_EQ(served.size(), static_cast<size_t>(expected.numel()));
    for (size_t i = 0; i < served.size(); ++i) {
      EXPECT_NEAR(served[i], expected.data_ptr<float>()[i], 1e-5) << i;
    }
  }

  static std::map<std::string, std::string> Reasons(const TestServer& server) {
    std::map<std::string, std::string> reasons;
    auto stub = NewStub(server.server->address());
    absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(*stub);
    EXPECT_TRUE(index.ok()) << index.status();
    if (!index.ok()) return reasons;
    for (const auto& row : index->models()) {
      reasons[row.name()] = row.state() == "READY" ? "READY" : row.reason();
    }
    return reasons;
  }
};

TEST_F(ServerOperatorLibraryTest, ALibraryInTheVersionDirectoryServesTheModel) {
  absl::StatusOr<TestServer> server = StartTestServer(
      {"--model-control-mode=explicit", "--load-model=ops_relative"},
      [](const fs::path& repository) -> absl::Status {
        SONIC_RETURN_IF_ERROR(
            WriteOpsModel(repository, "ops_relative", LibraryParameter("libsonic_test_ops.so")));
        std::error_code error;
        fs::copy_file(SONIC_TEST_OPS_LIBRARY, repository / "ops_relative/1/libsonic_test_ops.so",
                      error);
        return error ? absl::InternalError(error.message()) : absl::OkStatus();
      },
      /*write_test_models=*/false);
  ASSERT_TRUE(server.ok()) << server.status();
  ExpectServes(*server, "ops_relative");
}

TEST_F(ServerOperatorLibraryTest, ALibraryFromTheBackendConfigServesTheModel) {
  absl::StatusOr<TestServer> server = StartTestServer(
      {"--model-control-mode=explicit", "--load-model=ops_plain",
       absl::StrCat("--backend-config=pytorch,operator-libraries=", SONIC_TEST_OPS_LIBRARY)},
      [](const fs::path& repository) { return WriteOpsModel(repository, "ops_plain"); },
      /*write_test_models=*/false);
  ASSERT_TRUE(server.ok()) << server.status();
  ExpectServes(*server, "ops_plain");
}

TEST_F(ServerOperatorLibraryTest, WithoutTheLibraryTheReasonIsOneLineNamingTheOperator) {
  absl::StatusOr<TestServer> server = StartTestServer(
      {"--model-control-mode=explicit", "--load-model=identity_fp32", "--load-model=ops_plain",
       "--load-model=ops_outside", "--load-model=ops_absent"},
      [](const fs::path& repository) -> absl::Status {
        SONIC_RETURN_IF_ERROR(WriteOpsModel(repository, "ops_plain"));
        std::error_code error;
        fs::copy_file(SONIC_TEST_OPS_LIBRARY, repository.parent_path() / "libsonic_test_ops.so",
                      error);
        if (error) return absl::InternalError(error.message());
        SONIC_RETURN_IF_ERROR(WriteOpsModel(repository, "ops_outside",
                                            LibraryParameter("../../../libsonic_test_ops.so")));
        return WriteOpsModel(repository, "ops_absent", LibraryParameter("libmissing.so"));
      });
  ASSERT_TRUE(server.ok()) << server.status();
  std::map<std::string, std::string> reasons = Reasons(*server);
  const std::string& missing = reasons["ops_plain"];
  EXPECT_THAT(missing, HasSubstr("unknown TorchScript operator 'sonic_test::scaled_add'"));
  EXPECT_THAT(missing, HasSubstr("OPERATOR_LIBRARIES"));
  EXPECT_THAT(missing, Not(HasSubstr("\n")));
  EXPECT_LT(missing.size(), 400u) << missing;
  EXPECT_THAT(reasons["ops_outside"],
              HasSubstr("must be a relative path inside the version directory"));
  EXPECT_THAT(reasons["ops_absent"], HasSubstr("cannot load operator library"));
  EXPECT_THAT(reasons["ops_absent"], HasSubstr("libmissing.so"));
  EXPECT_EQ(reasons["identity_fp32"], "READY");
  auto stub = NewStub(server->server->address());
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(*stub, Fp32Request("identity_fp32", "INPUT0", {1, 2}, {1, 2}), &response).ok());
}

}  // namespace
}  // namespace sonic::testing
