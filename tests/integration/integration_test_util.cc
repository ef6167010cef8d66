#include "integration_test_util.h"

#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "test_models.h"

namespace sonic::testing {

absl::StatusOr<TestServer> StartTestServer(
    std::vector<std::string> args,
    const std::function<absl::Status(const std::filesystem::path&)>& prepare,
    bool write_test_models) {
  TestServer test;
  absl::StatusOr<std::unique_ptr<TempDirectory>> dir = TempDirectory::Create("sonic_it");
  if (!dir.ok()) return dir.status();
  test.dir = *std::move(dir);
  const std::filesystem::path repository = test.repository();
  std::error_code error;
  std::filesystem::create_directories(repository, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", repository.string()));
  if (write_test_models) {
    if (absl::Status written = WriteTestRepository(repository); !written.ok()) return written;
  }
  if (prepare) {
    if (absl::Status prepared = prepare(repository); !prepared.ok()) return prepared;
  }
  args.insert(args.begin(), {"--model-repository", repository.string()});
  ServerProcess::Options options;
  options.args = std::move(args);
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(options);
  if (!server.ok()) return server.status();
  test.server = *std::move(server);
  return test;
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address,
                                          std::shared_ptr<grpc::ChannelCredentials> credentials,
                                          const grpc::ChannelArguments& extra) {
  grpc::ChannelArguments arguments = extra;
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(address, credentials, arguments);
}

std::unique_ptr<inference::GRPCInferenceService::Stub> NewStub(const std::string& address) {
  return inference::GRPCInferenceService::NewStub(NewChannel(address));
}

std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return context;
}

absl::Status WriteFileAtomically(const std::filesystem::path& file, std::string_view contents) {
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  const std::filesystem::path temporary = file.string() + ".writing";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", temporary.string()));
  }
  std::filesystem::rename(temporary, file, error);
  if (error) return absl::InternalError(absl::StrCat("cannot rename to ", file.string()));
  return absl::OkStatus();
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration deadline) {
  const absl::Time end = absl::Now() + deadline;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

inference::ModelInferRequest RawRequest(const std::string& model, const std::string& input,
                                        const std::string& datatype,
                                        const std::vector<int64_t>& shape, std::string raw) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  auto* tensor = request.add_inputs();
  tensor->set_name(input);
  tensor->set_datatype(datatype);
  tensor->mutable_shape()->Add(shape.begin(), shape.end());
  request.add_raw_input_contents(std::move(raw));
  return request;
}

inference::ModelInferRequest Fp32Request(const std::string& model, const std::string& input,
                                         const std::vector<int64_t>& shape,
                                         const std::vector<float>& values) {
  return RawRequest(model, input, "FP32", shape, ToRaw(values));
}

grpc::Status Infer(inference::GRPCInferenceService::Stub& stub,
                   const inference::ModelInferRequest& request,
                   inference::ModelInferResponse* response) {
  return stub.ModelInfer(NewContext().get(), request, response);
}

bool IsModelReady(inference::GRPCInferenceService::Stub& stub, const std::string& name,
                  const std::string& version) {
  inference::ModelReadyRequest request;
  request.set_name(name);
  request.set_version(version);
  inference::ModelReadyResponse response;
  return stub.ModelReady(NewContext().get(), request, &response).ok() && response.ready();
}

absl::StatusOr<inference::ModelConfig> GetModelConfig(inference::GRPCInferenceService::Stub& stub,
                                                      const std::string& name) {
  inference::ModelConfigRequest request;
  request.set_name(name);
  inference::ModelConfigResponse response;
  grpc::Status status = stub.ModelConfig(NewContext().get(), request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return response.config();
}

absl::StatusOr<inference::RepositoryIndexResponse> GetIndex(
    inference::GRPCInferenceService::Stub& stub, bool ready_only) {
  inference::RepositoryIndexRequest request;
  request.set_ready(ready_only);
  inference::RepositoryIndexResponse response;
  grpc::Status status = stub.RepositoryIndex(NewContext().get(), request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return response;
}

const std::string* RawOutput(const inference::ModelInferResponse& response, std::string_view name) {
  if (response.outputs_size() != response.raw_output_contents_size()) return nullptr;
  for (int i = 0; i < response.outputs_size(); ++i) {
    if (response.outputs(i).name() == name) return &response.raw_output_contents(i);
  }
  return nullptr;
}

}  // namespace sonic::testing
