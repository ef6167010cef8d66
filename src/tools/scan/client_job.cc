#include "client_job.h"

#include "absl/strings/str_cat.h"
#include "infer_request.h"
#include "input_data_file.h"
#include "load_generator.h"
#include "measurement.h"
#include "request_recorder.h"
#include "sonic/common/status.h"

namespace sonic::tools {

absl::StatusOr<JobReport> RunClientJob(const ClientJobOptions& options) {
  ConnectionOptions connection_options;
  connection_options.address = options.address;
  connection_options.token_file = options.token_file;
  connection_options.token_env = options.token_env;
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<InferenceConnection> connection,
                         InferenceConnection::Create(connection_options));
  SONIC_ASSIGN_OR_RETURN(ModelInterface model,
                         FetchModelInterface(connection->stub(), options.model,
                                             options.model_version));
  RequestSpec spec;
  spec.model_name = options.model;
  spec.model_version = options.model_version;
  spec.batch_size = options.batch_size;
  SONIC_ASSIGN_OR_RETURN(spec.shapes, ParseShapeFlags(options.shapes, model));
  SONIC_ASSIGN_OR_RETURN(std::vector<inference::ModelInferRequest> requests,
                         MakeRequestsForInputData(model, spec, options.input_data, /*seed=*/1));
  absl::Status warm_up;
  connection->Infer(requests.front(), &warm_up);
  SONIC_RETURN_IF_ERROR(Annotate(warm_up, "warm-up request"));

  JobReport report;
  report.late = absl::Now() > options.start;
  absl::SleepFor(options.start - absl::Now());
  RequestRecorder recorder;
  LoadSpec load;
  load.concurrency = options.threads;
  load.async = false;
  load.think_time = options.think_time;
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<LoadGenerator> generator,
                         LoadGenerator::Start(*connection, requests, recorder, load));
  const absl::Time end = options.start + options.duration;
  absl::SleepFor(end - absl::Now());
  std::vector<RequestRecord> records = recorder.TakeEndedBy(end);
  generator->Stop();
  Measurement measurement =
      Summarize(records, options.duration, options.batch_size, std::nullopt);
  // A job that was ready only after the window opened may have nothing in it: it reports itself
  // late (the scan then repeats the step with a longer head start) rather than failing.
  if (measurement.successes == 0 && !report.late) {
    return absl::UnavailableError(
        absl::StrCat("no request succeeded in the window; first error: ", recorder.FirstError()));
  }
  report.events = static_cast<double>(measurement.successes * options.batch_size);
  report.wall_seconds = absl::ToDoubleSeconds(options.duration);
  report.events_per_second = measurement.throughput;
  report.mean_latency_ms = absl::ToDoubleMilliseconds(measurement.mean_latency);
  report.failures = measurement.failures;
  report.models.push_back(
      {options.model, static_cast<double>(measurement.successes), report.events});
  return report;
}

std::vector<std::string> ClientJobCommand(const std::filesystem::path& sonic_binary,
                                          const ClientJobOptions& options) {
  std::vector<std::string> command = {sonic_binary.string(), "scan-job",
                                      "-u", options.address,
                                      "-m", options.model,
                                      "-b", absl::StrCat(options.batch_size),
                                      "--input-data", options.input_data,
                                      "--threads", "{threads}",
                                      "--start-at-ms", "{start_at_ms}",
                                      "--duration-ms", "{duration_ms}",
                                      "--report", "{report}"};
  if (!options.model_version.empty()) {
    command.insert(command.end(), {"-x", options.model_version});
  }
  for (const std::string& shape : options.shapes) command.insert(command.end(), {"--shape", shape});
  if (options.think_time > absl::ZeroDuration()) {
    command.insert(command.end(), {"--think-time-ms",
                                   absl::StrCat(absl::ToDoubleMilliseconds(options.think_time))});
  }
  if (!options.token_file.empty()) {
    command.insert(command.end(), {"--bearer-token-file", options.token_file});
  }
  if (!options.token_env.empty()) {
    command.insert(command.end(), {"--bearer-token-env", options.token_env});
  }
  return command;
}

}  // namespace sonic::tools
