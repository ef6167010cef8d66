#include "server/metrics/metrics_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "server/metrics/prometheus_text.h"

namespace sonic::server::metrics {
namespace {

// Scrapes are rare and short: two connection threads are plenty, and few threads on a server
// whose cores belong to the models.
constexpr size_t kConnectionThreads = 2;
// Bounds how long Stop waits for an idle kept-alive connection.
constexpr time_t kKeepAliveSeconds = 1;

void InstallHandlers(httplib::Server& http, MetricsServer::ScrapeFunction scrape) {
  http.Get("/metrics",
           [scrape = std::move(scrape)](const httplib::Request&, httplib::Response& response) {
             response.set_content(scrape(), std::string(kPrometheusContentType).c_str());
           });
  http.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (response.status == 404) response.set_content("not found\n", "text/plain");
  });
}

}  // namespace

MetricsServer::MetricsServer(std::unique_ptr<httplib::Server> http, int port)
    : http_(std::move(http)), port_(port) {}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Create(const Options& options,
                                                                     ScrapeFunction scrape) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics port ", options.port, " is outside 0..65535"));
  }
  auto http = std::make_unique<httplib::Server>();
  http->new_task_queue = [] { return new httplib::ThreadPool(kConnectionThreads); };
  http->set_keep_alive_timeout(kKeepAliveSeconds);
  // httplib's default SO_REUSEPORT would let a second server share a port in use and split the
  // scrapes between them; SO_REUSEADDR alone still allows a restart over TIME_WAIT sockets.
  http->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  InstallHandlers(*http, std::move(scrape));
  int port = options.port;
  if (port == 0) {
    port = http->bind_to_any_port(options.address);
  } else if (!http->bind_to_port(options.address, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind the metrics endpoint to ", options.address, ":", options.port));
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(http), port));
  MetricsServer* raw = server.get();
  server->listener_ = std::thread([raw] {
    raw->http_->listen_after_bind();
    raw->listener_exited_ = true;
  });
  // httplib's stop() only takes effect once its accept loop runs: wait for the loop, so that an
  // early Stop cannot be lost and leave the listener running forever.
  while (!raw->http_->is_running() && !raw->listener_exited_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return server;
}

void MetricsServer::Stop() {
  if (!listener_.joinable()) return;
  http_->stop();
  listener_.join();
}

MetricsServer::~MetricsServer() { Stop(); }

}  // namespace sonic::server::metrics
