#include "common/yaml_fields.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sonic::yaml {

absl::Status Fields::Error(const YAML::Node& node, std::string_view what) const {
  const YAML::Mark mark = node.Mark();
  const std::string where = mark.is_null() ? "" : absl::StrCat(" (line ", mark.line + 1, ")");
  return absl::InvalidArgumentError(absl::StrCat(document_, ": ", std::string(what), where));
}

absl::Status Fields::CheckKeys(const YAML::Node& node, std::string_view context,
                               const std::set<std::string>& allowed) const {
  if (!node.IsMap()) return Error(node, absl::StrCat(std::string(context), " must be a map"));
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (!allowed.count(key)) {
      return Error(entry.first, absl::StrCat("unknown key '", key, "' in ", std::string(context),
                                             " (known: ", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Fields::String(const YAML::Node& node, const std::string& key,
                                           std::string_view context, bool required) const {
  const YAML::Node value = node[key];
  const std::string name = absl::StrCat(std::string(context), ".", key);
  if (!value) {
    if (required) return Error(node, absl::StrCat(std::string(context), " needs '", key, "'"));
    return std::string();
  }
  if (!value.IsScalar()) return Error(value, absl::StrCat(name, " must be a string"));
  std::string text = value.as<std::string>();
  if (required && text.empty()) return Error(value, absl::StrCat(name, " is empty"));
  return text;
}

absl::StatusOr<double> Fields::Number(const YAML::Node& node, const std::string& key,
                                      std::string_view context, double fallback) const {
  const YAML::Node value = node[key];
  if (!value) return fallback;
  double number = 0;
  if (!value.IsScalar() || !YAML::convert<double>::decode(value, number) || number < 0) {
    return Error(value,
                 absl::StrCat(std::string(context), ".", key, " must be a number >= 0, not '",
                              value.IsScalar() ? value.Scalar() : "(not a scalar)", "'"));
  }
  return number;
}

absl::StatusOr<bool> Fields::Bool(const YAML::Node& node, const std::string& key,
                                  std::string_view context, bool fallback) const {
  const YAML::Node value = node[key];
  if (!value) return fallback;
  bool flag = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, flag)) {
    return Error(value, absl::StrCat(std::string(context), ".", key, " must be true or false"));
  }
  return flag;
}

absl::StatusOr<YAML::Node> Fields::Load(const std::string& text) const {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(document_, ": malformed YAML at line ", e.mark.line + 1, ": ", e.msg));
  }
}

}  // namespace sonic::yaml
