// sonic_consumer SERVER_ADDRESS MODEL_DIR: a job of 8 events whose one module sends each event's
// number through the model of MODEL_DIR (a Triton model directory, named after the model: an
// FP32 identity model with one variable dimension, INPUT0 -> OUTPUT0) on the server that
// TritonService routes it to, and checks that it comes back. Prints
// "consumer: 8 events, all identical" and exits 0, or prints the error and exits 1.
#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "sonic/client/triton_client.h"
#include "sonic/framework/event_processor.h"
#include "sonic/service/triton_service.h"

namespace {

constexpr int kEvents = 8;

class EchoModule : public sonic::framework::Module {
 public:
  EchoModule(std::unique_ptr<sonic::client::TritonClient> client, std::atomic<int>* identical)
      : Module("echo"), client_(std::move(client)), identical_(identical) {}

  void acquire(const sonic::framework::Event& event,
               sonic::framework::WaitingTaskHolder holder) override {
    const absl::Status sent = send(static_cast<float>(event.id()));
    if (!sent.ok()) {
      holder.doneWaiting(sent);
      return;
    }
    client_->dispatch([holder](absl::Status status) { holder.doneWaiting(status); });
  }

  absl::Status produce(sonic::framework::Event& event) override {
    absl::StatusOr<const sonic::client::TritonOutputData*> output = client_->output("OUTPUT0");
    if (!output.ok()) return output.status();
    absl::StatusOr<sonic::client::TritonOutput<float>> values = (*output)->fromServer<float>();
    if (!values.ok()) return values.status();
    const float expected = static_cast<float>(event.id());
    const bool identical = values->size() == 1 && (*values)[0].size() == 2 &&
                           (*values)[0][0] == expected && (*values)[0][1] == -expected;
    client_->reset();  // as CMSSW's SonicEDProducer does after produce
    if (!identical) return absl::InternalError("the output differs from the input");
    ++*identical_;
    return absl::OkStatus();
  }

 private:
  absl::Status send(float value) {
    client_->setBatchSize(1);
    absl::StatusOr<sonic::client::TritonInputData*> input = client_->input("INPUT0");
    if (!input.ok()) return input.status();
    if ((*input)->variableDims()) {
      if (absl::Status shaped = (*input)->setShape({2}, 0); !shaped.ok()) return shaped;
    }
    absl::StatusOr<sonic::client::TritonInputContainer<float>> data = (*input)->allocate<float>();
    if (!data.ok()) return data.status();
    (**data)[0] = {value, -value};
    return (*input)->toServer(*data);
  }

  std::unique_ptr<sonic::client::TritonClient> client_;
  std::atomic<int>* identical_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " SERVER_ADDRESS MODEL_DIR\n";
    return 2;
  }
  const std::filesystem::path model_dir = argv[2];
  const std::string model = model_dir.filename().string();
  sonic::service::TritonService::Options service_options;
  service_options.config.servers.push_back({.name = "site", .address = argv[1]});
  service_options.use_environment = false;
  absl::StatusOr<std::unique_ptr<sonic::service::TritonService>> service =
      sonic::service::TritonService::Create(service_options);
  if (!service.ok()) {
    std::cerr << "consumer: " << service.status() << "\n";
    return 1;
  }
  if (absl::Status declared = (*service)->DeclareModel({.name = model, .directory = model_dir}); !declared.ok()) {
    std::cerr << "consumer: " << declared << "\n";
    return 1;
  }
  std::atomic<int> identical{0};
  sonic::framework::ProcessorOptions options;
  options.events = kEvents;
  options.threads = 2;
  options.streams = 2;
  options.source = [](sonic::framework::Event&) { return absl::OkStatus(); };
  options.modules.push_back(
      {"echo", "echo",
       [&](int) -> absl::StatusOr<std::unique_ptr<sonic::framework::Module>> {
         sonic::client::TritonClient::Options client_options = (*service)->ClientOptions(model);
         client_options.mode = sonic::client::SonicMode::kAsync;
         absl::StatusOr<std::unique_ptr<sonic::client::TritonClient>> client =
             sonic::client::TritonClient::Create(client_options);
         if (!client.ok()) return client.status();
         return std::make_unique<EchoModule>(*std::move(client), &identical);
       }});
  absl::StatusOr<sonic::framework::ProcessorReport> report = sonic::framework::RunEvents(options);
  if (!report.ok()) {
    std::cerr << "consumer: " << report.status() << "\n";
    return 1;
  }
  if (identical != kEvents) {
    std::cerr << "consumer: " << identical << " of " << kEvents << " events came back identical\n";
    return 1;
  }
  std::cout << "consumer: " << kEvents << " events, all identical\n";
  return 0;
}
