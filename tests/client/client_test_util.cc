#include "client_test_util.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace sonic::testing {

client::TritonClient::Options ClientOptions(const TestServer& server, const std::string& model,
                                            client::SonicMode mode) {
  client::TritonClient::Options options;
  options.server_address = server.server->address();
  options.model_name = model;
  options.mode = mode;
  return options;
}

absl::Status DispatchAndWait(client::TritonClient& client) {
  struct Result {
    absl::Notification done;
    absl::Status status;
    std::atomic<int> calls{0};
  };
  auto result = std::make_shared<Result>();
  client.dispatch([result](absl::Status status) {
    if (result->calls.fetch_add(1) == 0) {
      result->status = std::move(status);
      result->done.Notify();
    }
  });
  if (!result->done.WaitForNotificationWithTimeout(kDispatchWait)) {
    return absl::DeadlineExceededError("the dispatch callback never came");
  }
  if (result->calls.load() != 1) return absl::InternalError("callback called more than once");
  return result->status;
}

absl::Status SendFp32(client::TritonClient& client, const std::string& name,
                      const std::vector<std::vector<float>>& rows) {
  client.setBatchSize(rows.size());
  SONIC_ASSIGN_OR_RETURN(client::TritonInputData * input, client.input(name));
  for (size_t i = 0; i < rows.size(); ++i) {
    if (input->variableDims()) {
      SONIC_RETURN_IF_ERROR(input->setShape({static_cast<int64_t>(rows[i].size())}, i));
    }
  }
  SONIC_ASSIGN_OR_RETURN(client::TritonInputContainer<float> data, input->allocate<float>());
  for (size_t i = 0; i < rows.size(); ++i) (*data)[i] = rows[i];
  return input->toServer(data);
}

absl::StatusOr<std::vector<std::vector<float>>> ReadFp32(const client::TritonClient& client,
                                                         const std::string& name) {
  SONIC_ASSIGN_OR_RETURN(const client::TritonOutputData* output, client.output(name));
  SONIC_ASSIGN_OR_RETURN(client::TritonOutput<float> views, output->fromServer<float>());
  std::vector<std::vector<float>> rows;
  for (std::span<const float> view : views) rows.emplace_back(view.begin(), view.end());
  return rows;
}

std::string UnusedAddress() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
}

}  // namespace sonic::testing
