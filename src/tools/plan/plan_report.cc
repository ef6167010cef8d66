#include "plan_report.h"

#include <yaml-cpp/yaml.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sonic::tools {
namespace {

// Rounded for people (and for YAML that diffs well): 4 significant digits.
double Round(double value) {
  if (value == 0 || !std::isfinite(value)) return value;
  const double scale = std::pow(10.0, 3 - std::floor(std::log10(std::fabs(value))));
  return std::round(value * scale) / scale;
}

std::string ModelNames(const Plan& plan, const DeviceGroup& group) {
  std::vector<std::string> names;
  for (const DeviceShare& share : group.shares) {
    names.push_back(absl::StrFormat("%s %.3g%%", plan.models[share.model].model,
                                    share.fraction * 100));
  }
  return absl::StrJoin(names, ", ");
}

void AppendModels(const Plan& plan, std::string& text) {
  absl::StrAppendFormat(&text, "%-24s %12s %8s %14s %8s %10s %9s %6s\n", "model", "requests/s",
                        "entries", "capacity/gpu", "load", "p99 ms", "cpu us/rq", "inst");
  for (const ModelLoad& m : plan.models) {
    absl::StrAppendFormat(&text, "%-24s %12.6g %8.3g %14.6g %8.4g %10.3g %9.3g %6d\n", m.model,
                          m.requests_per_second, m.entries_per_request, m.capacity, m.load,
                          m.latency_p99_ms, m.server_cpu_us_per_request, m.instances);
  }
}

void AppendDevices(const Plan& plan, const std::vector<SimulatedQueueTime>& simulated,
                   std::string& text) {
  const std::vector<DeviceGroup>& groups = plan.placement().groups;
  const bool with_simulation = simulated.size() == groups.size();
  for (size_t g = 0; g < groups.size(); ++g) {
    const QueueTime& q = plan.queues[g];
    absl::StrAppendFormat(&text, "%d device(s) at load %.3f, %.0f MB: %s\n", groups[g].count,
                          groups[g].load, groups[g].memory_mb, ModelNames(plan, groups[g]));
    absl::StrAppendFormat(&text, "  queue ms (M/G/1)  mean %.3g  p50 %.3g  p90 %.3g  p99 %.3g\n",
                          q.mean_s * 1e3, q.p50_s * 1e3, q.p90_s * 1e3, q.p99_s * 1e3);
    if (!with_simulation) continue;
    const SimulatedQueueTime& s = simulated[g];
    absl::StrAppendFormat(&text,
                          "  queue ms (simulated, %d requests, utilization %.3f)  mean %.3g  "
                          "p50 %.3g  p90 %.3g  p99 %.3g\n",
                          s.requests, s.utilization, s.mean_s * 1e3, s.p50_s * 1e3,
                          s.p90_s * 1e3, s.p99_s * 1e3);
  }
}

void EmitQueue(YAML::Emitter& out, const QueueTime& q) {
  out << YAML::Key << "queue_ms" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "model" << YAML::Value << "M/G/1";
  out << YAML::Key << "mean" << YAML::Value << Round(q.mean_s * 1e3);
  out << YAML::Key << "p50" << YAML::Value << Round(q.p50_s * 1e3);
  out << YAML::Key << "p90" << YAML::Value << Round(q.p90_s * 1e3);
  out << YAML::Key << "p99" << YAML::Value << Round(q.p99_s * 1e3) << YAML::EndMap;
}

void EmitSimulated(YAML::Emitter& out, const SimulatedQueueTime& s) {
  out << YAML::Key << "simulated_queue_ms" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "requests" << YAML::Value << s.requests;
  out << YAML::Key << "utilization" << YAML::Value << Round(s.utilization);
  out << YAML::Key << "mean" << YAML::Value << Round(s.mean_s * 1e3);
  out << YAML::Key << "p50" << YAML::Value << Round(s.p50_s * 1e3);
  out << YAML::Key << "p90" << YAML::Value << Round(s.p90_s * 1e3);
  out << YAML::Key << "p99" << YAML::Value << Round(s.p99_s * 1e3) << YAML::EndMap;
}

void EmitSummary(YAML::Emitter& out, const Plan& plan) {
  out << YAML::Key << "plan" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "placement" << YAML::Value << PlacementName(plan.chosen);
  out << YAML::Key << "gpus" << YAML::Value << plan.gpus;
  out << YAML::Key << "gpus_per_server" << YAML::Value << plan.gpus_per_server;
  out << YAML::Key << "servers" << YAML::Value << plan.servers;
  out << YAML::Key << "target_utilization" << YAML::Value << Round(plan.target_utilization);
  out << YAML::Key << "utilization" << YAML::Value << Round(plan.utilization);
  out << YAML::Key << "events_per_second" << YAML::Value << Round(plan.events_per_second);
  out << YAML::Key << "cores" << YAML::Value << Round(plan.cores);
  out << YAML::Key << "jobs_per_server" << YAML::Value << Round(plan.jobs_per_server);
  out << YAML::Key << "jobs_per_server_at_saturation" << YAML::Value
      << Round(plan.jobs_per_server_at_saturation);
  out << YAML::Key << "server" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "cpu_cores" << YAML::Value << Round(plan.server_cpu_cores);
  out << YAML::Key << "cpu_cores_provisioned" << YAML::Value
      << static_cast<int>(std::ceil(plan.server_cpu_cores / plan.target_utilization - 1e-9));
  out << YAML::Key << "network_gbps" << YAML::Value << Round(plan.server_network_gbps)
      << YAML::EndMap;
  out << YAML::Key << "notes" << YAML::Value << YAML::BeginSeq;
  for (const std::string& note : plan.notes) out << note;
  out << YAML::EndSeq << YAML::EndMap;
  out << YAML::Key << "alternatives" << YAML::Value << YAML::BeginMap;
  for (const Placement* p : {&plan.everywhere, &plan.split}) {
    out << YAML::Key << PlacementName(p->kind) << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "feasible" << YAML::Value << p->feasible;
    out << YAML::Key << "gpus" << YAML::Value << p->devices;
    out << YAML::Key << "reason" << YAML::Value << p->reason << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void EmitModel(YAML::Emitter& out, const ModelLoad& m) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << m.model;
  out << YAML::Key << "requests_per_second" << YAML::Value << Round(m.requests_per_second);
  out << YAML::Key << "entries_per_request" << YAML::Value << Round(m.entries_per_request);
  out << YAML::Key << "capacity_entries_per_second" << YAML::Value << Round(m.capacity);
  out << YAML::Key << "load_gpus" << YAML::Value << Round(m.load);
  out << YAML::Key << "measured_level" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "batch_size" << YAML::Value << m.level.batch_size;
  out << YAML::Key << "concurrency" << YAML::Value << Round(m.level.concurrency);
  out << YAML::Key << "throughput" << YAML::Value << Round(m.level.throughput);
  out << YAML::Key << "latency_p99_ms" << YAML::Value << Round(m.latency_p99_ms) << YAML::EndMap;
  out << YAML::Key << "unloaded_latency_ms" << YAML::Value << Round(m.unloaded_latency_ms);
  out << YAML::Key << "server_cpu_us_per_request" << YAML::Value
      << Round(m.server_cpu_us_per_request);
  out << YAML::Key << "cpu_source" << YAML::Value << m.cpu_source;
  out << YAML::Key << "instance_group" << YAML::Value << YAML::Flow << YAML::BeginMap
      << YAML::Key << "count" << YAML::Value << m.instances << YAML::EndMap;
  out << YAML::Key << "dynamic_batching" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "preferred_batch_size" << YAML::Value << YAML::Flow << YAML::BeginSeq
      << m.preferred_batch_size << YAML::EndSeq;
  out << YAML::Key << "max_queue_delay_microseconds" << YAML::Value << m.max_queue_delay_us
      << YAML::EndMap;
  out << YAML::EndMap;
}

void EmitDirect(YAML::Emitter& out, const DirectComparison& d) {
  out << YAML::Key << "direct" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cores" << YAML::Value << Round(d.cores);
  out << YAML::Key << "cores_per_gpu" << YAML::Value << d.cores_per_gpu;
  out << YAML::Key << "gpus" << YAML::Value << d.gpus;
  out << YAML::Key << "utilization" << YAML::Value << Round(d.utilization);
  if (d.measured_utilization) {
    out << YAML::Key << "measured_utilization" << YAML::Value << Round(*d.measured_utilization);
  }
  out << YAML::Key << "saving" << YAML::Value << Round(d.saving) << YAML::EndMap;
}

}  // namespace

std::string FormatPlanTable(const Plan& plan, const std::vector<SimulatedQueueTime>& simulated) {
  std::string text = absl::StrFormat(
      "%d GPU(s) on %d server(s) (%d per server), models %s, utilization %.3f (target %.2f)\n"
      "%.6g events/s from %.6g cores; %.3g jobs per server planned, %.3g at saturation\n"
      "per server: %.3g CPU cores for requests, %.3g Gb/s network\n",
      plan.gpus, plan.servers, plan.gpus_per_server, PlacementName(plan.chosen), plan.utilization,
      plan.target_utilization, plan.events_per_second, plan.cores, plan.jobs_per_server,
      plan.jobs_per_server_at_saturation, plan.server_cpu_cores, plan.server_network_gbps);
  for (const Placement* p : {&plan.everywhere, &plan.split}) {
    absl::StrAppendFormat(&text, "  %s: %s\n", PlacementName(p->kind),
                          p->feasible ? absl::StrCat(p->devices, " GPU(s)") : p->reason);
  }
  for (const std::string& note : plan.notes) absl::StrAppend(&text, "note: ", note, "\n");
  AppendModels(plan, text);
  AppendDevices(plan, simulated, text);
  if (plan.direct) {
    const DirectComparison& d = *plan.direct;
    absl::StrAppendFormat(&text,
                          "direct inference: %d GPU(s) (one per %d cores) at utilization %.3f%s; "
                          "SONIC saves a factor %.3g\n",
                          d.gpus, d.cores_per_gpu, d.utilization,
                          d.measured_utilization
                              ? absl::StrFormat(" (measured %.3f)", *d.measured_utilization)
                              : "",
                          d.saving);
  }
  return text;
}

std::string PlanYaml(const Plan& plan, const std::vector<SimulatedQueueTime>& simulated) {
  YAML::Emitter out;
  out.SetDoublePrecision(6);
  out.SetFloatPrecision(6);
  out << YAML::BeginMap;
  EmitSummary(out, plan);
  out << YAML::Key << "models" << YAML::Value << YAML::BeginSeq;
  for (const ModelLoad& m : plan.models) EmitModel(out, m);
  out << YAML::EndSeq;
  const std::vector<DeviceGroup>& groups = plan.placement().groups;
  out << YAML::Key << "devices" << YAML::Value << YAML::BeginSeq;
  for (size_t g = 0; g < groups.size(); ++g) {
    out << YAML::BeginMap;
    out << YAML::Key << "count" << YAML::Value << groups[g].count;
    out << YAML::Key << "load" << YAML::Value << Round(groups[g].load);
    out << YAML::Key << "memory_mb" << YAML::Value << Round(groups[g].memory_mb);
    out << YAML::Key << "models" << YAML::Value << YAML::BeginSeq;
    for (const DeviceShare& share : groups[g].shares) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << plan.models[share.model].model << YAML::Key << "share" << YAML::Value
          << Round(share.fraction) << YAML::EndMap;
    }
    out << YAML::EndSeq;
    EmitQueue(out, plan.queues[g]);
    if (simulated.size() == groups.size()) EmitSimulated(out, simulated[g]);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (plan.direct) EmitDirect(out, *plan.direct);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace sonic::tools
