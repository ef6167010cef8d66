// Strict reading of YAML configuration files (yaml-cpp): every error names the document, the key
// and its line, and unknown keys are errors, so a typo in a config never goes unnoticed.
//
//   const yaml::Fields fields("job config");
//   SONIC_RETURN_IF_ERROR(fields.CheckKeys(node, "source", {"events", "seed"}));
//   SONIC_ASSIGN_OR_RETURN(double events, fields.Number(node, "events", "source", 100));
//
// Thread-safe (const, no state but the document's name).
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sonic::yaml {

class Fields {
 public:
  // `document` prefixes every message ("service config", "job config").
  explicit Fields(std::string document) : document_(std::move(document)) {}

  // INVALID_ARGUMENT "<document>: <what> (line N)" (no line when `node` has none).
  absl::Status Error(const YAML::Node& node, std::string_view what) const;

  // Fails on a `node` that is not a map or has keys outside `allowed`.
  absl::Status CheckKeys(const YAML::Node& node, std::string_view context,
                         const std::set<std::string>& allowed) const;

  // node[key] as text; "" when absent (an error when `required`, or when required and empty).
  absl::StatusOr<std::string> String(const YAML::Node& node, const std::string& key,
                                     std::string_view context, bool required) const;

  // node[key] as a number >= 0; `fallback` when absent.
  absl::StatusOr<double> Number(const YAML::Node& node, const std::string& key,
                                std::string_view context, double fallback) const;

  // node[key] as true/false; `fallback` when absent.
  absl::StatusOr<bool> Bool(const YAML::Node& node, const std::string& key,
                            std::string_view context, bool fallback) const;

  // Parses `text`; malformed YAML is INVALID_ARGUMENT with the line.
  absl::StatusOr<YAML::Node> Load(const std::string& text) const;

 private:
  std::string document_;
};

}  // namespace sonic::yaml
