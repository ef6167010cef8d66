#include "perf_refused_flags.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sonic::cli {
namespace {

struct Entry {
  const char* name;  // CLI11 option name(s)
  bool takes_value;
  const char* why;
};

constexpr char kSequences[] = "sequence (stateful) models are not supported";
constexpr char kHttp[] = "it applies to HTTP, and sonic perf speaks gRPC only";
constexpr char kCApi[] = "the Triton C API service kind is not supported";

constexpr Entry kRefused[] = {
    {"--bls-composing-models", true, "BLS composing-model statistics are not collected"},
    {"--model-signature-name", true, "TensorFlow Serving is not supported"},
    {"--endpoint", true, "the OpenAI service kind is not supported"},
    {"--periodic-concurrency-range", true, "periodic concurrency is not supported"},
    {"--request-period", true, "periodic concurrency is not supported"},
    {"--request-parameter", true, "custom request parameters are not supported"},
    {"--request-intervals", true, "custom request intervals are not supported"},
    {"--schedule", true, "custom request schedules are not supported"},
    {"--session-concurrency", true, "session concurrency is not supported"},
    {"--num-of-sequences", true, kSequences},
    {"--sequence-length", true, kSequences},
    {"--sequence-length-variation", true, kSequences},
    {"--sequence-id-range", true, kSequences},
    {"--serial-sequences", false, kSequences},
    {"--string-data", true, "fixed string data is not supported (random strings only)"},
    {"--data-directory", true, "directory input data is not supported (JSON files only)"},
    {"--input-tensor-format", true, kHttp},
    {"--output-tensor-format", true, kHttp},
    {"--ssl-https-verify-peer", true, kHttp},
    {"--ssl-https-verify-host", true, kHttp},
    {"--ssl-https-ca-certificates-file", true, kHttp},
    {"--ssl-https-client-certificate-file", true, kHttp},
    {"--ssl-https-client-certificate-type", true, kHttp},
    {"--ssl-https-private-key-file", true, kHttp},
    {"--ssl-https-private-key-type", true, kHttp},
    {"--triton-server-directory", true, kCApi},
    {"--model-repository", true, kCApi},
    {"--profile-export-file", true, "profile export is not supported (use --json)"},
    {"--trace-level", true, "server-side tracing is not supported"},
    {"--trace-rate", true, "server-side tracing is not supported"},
    {"--trace-count", true, "server-side tracing is not supported"},
    {"--log-frequency", true, "server-side tracing is not supported"},
    {"--request-count", true, "a fixed request count is not supported (use count_windows)"},
    {"--warmup-request-count", true, "warm-up requests are not supported"},
    {"--enable-mpi", false, "multi-model MPI runs are not supported"},
    {"--version", false, "sonic perf has no perf_analyzer version"},
    {"-t", true, "deprecated; use --concurrency-range"},
    {"-c", true, "deprecated; use --concurrency-range"},
    {"-d", false, "deprecated; use --concurrency-range"},
};

}  // namespace

void RefusedFlags::AddTo(CLI::App& command) {
  values_.reserve(std::size(kRefused));
  for (const Entry& entry : kRefused) {
    CLI::Option* option = nullptr;
    if (entry.takes_value) {
      values_.emplace_back();
      option = command.add_option(entry.name, values_.back());
    } else {
      option = command.add_flag(entry.name);
    }
    option->group("");  // hidden: listed in the README, not as sonic's own
    refused_.push_back({option, entry.name, entry.why});
  }
  CLI::Option* kind = command.add_option("--service-kind", service_kind_);
  kind->group("");
  refused_.push_back({kind, "--service-kind", "only the triton service kind is supported"});
}

std::optional<std::string> RefusedFlags::FirstGiven() const {
  for (const Refused& refused : refused_) {
    if (refused.option->count() == 0) continue;
    if (refused.name == "--service-kind" && service_kind_ == "triton") continue;
    return absl::StrCat("perf_analyzer's ", refused.name, " is not supported by sonic perf: ",
                        refused.why);
  }
  return std::nullopt;
}

}  // namespace sonic::cli
