#include "server/repository/model_config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "server/repository/ensemble_config.h"
#include "sonic/common/status.h"
#include "sonic/common/utf8.h"

namespace sonic::server {
namespace {

constexpr char kConfigFileName[] = "config.pbtxt";

// Keeps the parser's first error; protobuf reports 0-based positions, people read 1-based ones.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (has_error_) return;
    has_error_ = true;
    line_ = line + 1;
    column_ = column + 1;
    message_ = message;
  }

  bool has_error() const { return has_error_; }
  std::string Describe() const {
    if (line_ <= 0) return message_;  // an error about the whole input (line -1)
    return absl::StrCat("line ", line_, " column ", column_, ": ", message_);
  }

 private:
  bool has_error_ = false;
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

struct PlatformBackend {
  std::string_view platform;
  std::string_view backend;
};

// Triton's platform names and the backend implementing each. The first entry for a backend is
// the platform that backend implies when a config gives only the backend.
constexpr PlatformBackend kPlatformBackends[] = {
    {"pytorch_libtorch", "pytorch"},       {"onnxruntime_onnx", "onnxruntime"},
    {"tensorrt_plan", "tensorrt"},         {"tensorflow_savedmodel", "tensorflow"},
    {"tensorflow_graphdef", "tensorflow"},
};

std::string_view DefaultModelFilename(std::string_view backend, std::string_view platform) {
  if (backend == "pytorch") return "model.pt";
  if (backend == "onnxruntime") return "model.onnx";
  if (backend == "tensorrt") return "model.plan";
  if (platform == "tensorflow_savedmodel") return "model.savedmodel";
  if (platform == "tensorflow_graphdef") return "model.graphdef";
  return "";
}

void NormalizePlatformAndBackend(inference::ModelConfig& config) {
  if (config.backend().empty())
    config.set_backend(std::string(BackendForPlatform(config.platform())));
  // tensorflow is left alone: savedmodel or graphdef depends on the files.
  if (config.platform().empty() && config.backend() != "tensorflow") {
    for (const PlatformBackend& entry : kPlatformBackends) {
      if (config.backend() == entry.backend) {
        config.set_platform(std::string(entry.platform));
        break;
      }
    }
  }
}

void NormalizeInstanceGroups(inference::ModelConfig& config) {
  if (config.instance_group_size() == 0) {
    config.add_instance_group()->set_kind(inference::ModelInstanceGroup::KIND_AUTO);
  }
  for (int i = 0; i < config.instance_group_size(); ++i) {
    inference::ModelInstanceGroup& group = *config.mutable_instance_group(i);
    if (group.count() == 0) group.set_count(1);
    if (group.name().empty()) group.set_name(absl::StrCat(config.name(), "_", i));
  }
}

// The name a model directory gives its model; tolerates a trailing separator ("repo/mlp/").
std::string ModelNameOf(const std::filesystem::path& model_dir) {
  std::filesystem::path normal = model_dir.lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  return normal.filename().string();
}

// The contents of `file`, checked again on the open descriptor (the path may have been replaced
// since it was looked at): a regular file of at most `max_bytes`, of which at most that many are
// read. O_NONBLOCK: a FIFO put there meanwhile never blocks the open.
absl::StatusOr<std::string> ReadBoundedRegularFile(const std::filesystem::path& file,
                                                   std::string_view model_name,
                                                   uint64_t max_bytes) {
  auto error = [&](std::string_view what) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", ToAbsl(model_name), "': ", file.string(), " ", ToAbsl(what)));
  };
  auto too_large = [&](uint64_t size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", ToAbsl(model_name), "': ", file.string(), " has ", size,
        " bytes or more, over the limit of ", max_bytes, " bytes (--max-config-bytes)"));
  };
  const int fd = open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return error("cannot be opened");
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return error("is not a regular file");
  }
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    close(fd);
    return too_large(static_cast<uint64_t>(info.st_size));
  }
  std::string contents;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      close(fd);
      return error("cannot be read");
    }
    if (got == 0) break;
    if (contents.size() + static_cast<uint64_t>(got) > max_bytes) {  // it grew since fstat
      close(fd);
      return too_large(contents.size() + static_cast<uint64_t>(got));
    }
    contents.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return contents;
}

absl::StatusOr<std::string> ReadConfigFile(const std::filesystem::path& model_dir,
                                           std::string_view model_name, uint64_t max_bytes,
                                           std::string_view config_name) {
  std::error_code error;
  if (!std::filesystem::is_directory(model_dir, error)) {
    return absl::NotFoundError(absl::StrCat("model '", ToAbsl(model_name), "': model directory ",
                                            model_dir.string(), " does not exist"));
  }
  std::filesystem::path file = model_dir / kConfigFileName;
  if (!config_name.empty()) {
    const std::filesystem::path custom =
        model_dir / "configs" / absl::StrCat(ToAbsl(config_name), ".pbtxt");
    if (std::filesystem::exists(custom, error)) file = custom;
  }
  if (std::filesystem::exists(file, error) && !std::filesystem::is_regular_file(file, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", ToAbsl(model_name), "': ", file.string(), " is not a regular file"));
  }
  if (!std::filesystem::is_regular_file(file, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", ToAbsl(model_name), "': missing ", file.string(),
                     " (sonic-server does not auto-complete configurations)"));
  }
  return ReadBoundedRegularFile(file, model_name, max_bytes);
}

}  // namespace

std::string_view BackendForPlatform(std::string_view platform) {
  for (const PlatformBackend& entry : kPlatformBackends) {
    if (platform == entry.platform) return entry.backend;
  }
  return "";
}

namespace {

// The path ("output[0].name") of the first string field of `message` whose value is not
// well-formed UTF-8; nullopt when there is none.
std::optional<std::string> FirstNonUtf8Field(const google::protobuf::Message& message,
                                             const std::string& prefix) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string path = prefix.empty() ? field->name() : prefix + "." + field->name();
    const int count = field->is_repeated() ? reflection.FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string element = field->is_repeated() ? absl::StrCat(path, "[", i, "]") : path;
      if (field->type() == FieldDescriptor::TYPE_STRING) {
        const std::string value = field->is_repeated()
                                      ? reflection.GetRepeatedString(message, field, i)
                                      : reflection.GetString(message, field);
        if (FirstInvalidUtf8(value)) return element;
      } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
        const google::protobuf::Message& child =
            field->is_repeated() ? reflection.GetRepeatedMessage(message, field, i)
                                 : reflection.GetMessage(message, field);
        if (std::optional<std::string> found = FirstNonUtf8Field(child, element)) return found;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<inference::ModelConfig> ParseModelConfig(std::string_view pbtxt,
                                                        std::string_view model_name) {
  inference::ModelConfig config;
  FirstErrorCollector errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  const bool parsed = parser.ParseFromString(std::string(pbtxt), &config);
  if (!parsed || errors.has_error()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", ToAbsl(model_name), "': ", kConfigFileName, " ",
                     errors.has_error() ? errors.Describe() : "cannot be parsed"));
  }
  // The parser takes any bytes in string fields (raw or as \x escapes); served back as the
  // model's config, they would make the responses unreadable to clients (protobuf only logs it).
  if (const std::optional<std::string> field = FirstNonUtf8Field(config, "")) {
    return absl::InvalidArgumentError(absl::StrCat("model '", ToAbsl(model_name), "': ",
                                                   kConfigFileName, ": ", *field,
                                                   " is not valid UTF-8"));
  }
  return config;
}

absl::StatusOr<inference::ModelConfig> LoadModelConfig(
    const std::filesystem::path& model_dir, std::span<const std::string_view> supported_backends,
    uint64_t max_config_bytes, std::string_view config_name) {
  SONIC_RETURN_IF_ERROR(config_name.empty() ? absl::OkStatus()
                                            : CustomConfigNameError(config_name));
  const std::string name = ModelNameOf(model_dir);
  SONIC_ASSIGN_OR_RETURN(const std::string text,
                         ReadConfigFile(model_dir, name, max_config_bytes, config_name));
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config, ParseModelConfig(text, name));
  if (config.name().empty()) {
    config.set_name(name);
  } else if (config.name() != name) {
    return absl::InvalidArgumentError(absl::StrCat("model '", name, "': name: config.pbtxt says '",
                                                   config.name(), "' but the model directory is '",
                                                   name, "'; they must be equal"));
  }
  NormalizeModelConfig(config);
  SONIC_RETURN_IF_ERROR(ValidateModelConfig(config, supported_backends));
  return config;
}

absl::Status CustomConfigNameError(std::string_view name) {
  const bool plain = !name.empty() && name != "." && name != ".." &&
                     std::none_of(name.begin(), name.end(), [](char c) {
                       return c == '/' || c == '\0' || std::isspace(static_cast<unsigned char>(c));
                     });
  if (plain) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--model-config-name '", ToAbsl(name),
                   "' must be a file name without separators or whitespace"));
}

void NormalizeModelConfig(inference::ModelConfig& config) {
  const bool ensemble = IsEnsemble(config);
  if (!ensemble) NormalizePlatformAndBackend(config);
  if (!ensemble && config.default_model_filename().empty()) {
    config.set_default_model_filename(
        std::string(DefaultModelFilename(config.backend(), config.platform())));
  }
  if (config.version_policy().policy_choice_case() ==
      inference::ModelVersionPolicy::POLICY_CHOICE_NOT_SET) {
    config.mutable_version_policy()->mutable_latest()->set_num_versions(1);
  }
  if (!ensemble) NormalizeInstanceGroups(config);
}

}  // namespace sonic::server
