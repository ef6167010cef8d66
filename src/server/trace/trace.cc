#include "server/trace/trace.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace sonic::server {

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

Trace::~Trace() {
  if (sink_) sink_->Collect(ToJson());
}

void Trace::SetRequest(int64_t model_version, std::string request_id) {
  absl::MutexLock lock(&mutex_);
  model_version_ = model_version;
  request_id_ = std::move(request_id);
}

void Trace::Record(std::string_view name, uint64_t ns) {
  absl::MutexLock lock(&mutex_);
  timestamps_.emplace_back(name, ns);
}

std::string Trace::ToJson() const {
  absl::MutexLock lock(&mutex_);
  std::string out;
  for (const auto& [name, ns] : timestamps_) {
    if (!out.empty()) out += ',';
    if (name == kTraceRequestStart) {
      absl::StrAppend(&out, "{\"id\":", id_, ",\"model_name\":", JsonString(model_name_),
                      ",\"model_version\":", model_version_);
      if (!request_id_.empty()) absl::StrAppend(&out, ",\"request_id\":", JsonString(request_id_));
      out += "},";
    }
    absl::StrAppend(&out, "{\"id\":", id_, ",\"timestamps\":[{\"name\":", JsonString(name),
                    ",\"ns\":", ns, "}]}");
  }
  return out;
}

}  // namespace sonic::server
