#include "server/metrics/metrics_server.h"

#include <httplib.h>

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

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Create(const Options& options,
                                                                     ScrapeFunction scrape) {
  auto http = std::make_unique<httplib::Server>();
  http->new_task_queue = [] { return new httplib::ThreadPool(kConnectionThreads); };
  http->set_keep_alive_timeout(kKeepAliveSeconds);
  InstallHandlers(*http, std::move(scrape));
  absl::StatusOr<std::unique_ptr<HttplibListener>> listener =
      HttplibListener::Start(std::move(http), options.address, options.port, "metrics endpoint");
  if (!listener.ok()) return listener.status();
  return std::unique_ptr<MetricsServer>(new MetricsServer(*std::move(listener)));
}

void MetricsServer::Stop() { listener_->Stop(); }

MetricsServer::~MetricsServer() { Stop(); }

}  // namespace sonic::server::metrics
