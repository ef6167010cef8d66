#include "bearer_token.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sonic::transport {
namespace {

// A token is at most a few kilobytes; a file much larger is not one.
constexpr off_t kMaxTokenFileBytes = 64 << 10;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The file's modification time and size as text, or "" when it cannot be examined.
std::string StampOf(const std::string& file) {
  struct stat info {};
  if (stat(file.c_str(), &info) != 0) return "";
  return absl::StrCat(info.st_mtim.tv_sec, ".", info.st_mtim.tv_nsec, "/", info.st_size);
}

class Interceptor : public grpc::experimental::Interceptor {
 public:
  explicit Interceptor(const BearerTokenSource* source) : source_(source) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", "Bearer " + source_->Token());
    }
    methods->Proceed();
  }

 private:
  const BearerTokenSource* const source_;
};

class InterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit InterceptorFactory(std::shared_ptr<const BearerTokenSource> source)
      : source_(std::move(source)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new Interceptor(source_.get());
  }

 private:
  const std::shared_ptr<const BearerTokenSource> source_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<BearerTokenSource>> BearerTokenSource::Create(
    const BearerTokenOptions& options) {
  if (options.empty()) return absl::InvalidArgumentError("no token file or variable given");
  std::shared_ptr<BearerTokenSource> source(new BearerTokenSource(options));
  if (options.file.empty()) {
    const char* value = std::getenv(options.env.c_str());
    const std::string token(absl::StripAsciiWhitespace(value ? value : ""));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the token variable ", options.env, " is unset or empty"));
    }
    absl::MutexLock lock(&source->mutex_);
    source->token_ = token;
    return source;
  }
  absl::MutexLock lock(&source->mutex_);
  if (absl::Status read = source->Read(); !read.ok()) return read;
  source->last_check_s_ = NowSeconds();
  return source;
}

absl::Status BearerTokenSource::Read() const {
  const std::string stamp = StampOf(options_.file);
  struct stat info {};
  if (stamp.empty() || stat(options_.file.c_str(), &info) != 0 || !S_ISREG(info.st_mode) ||
      info.st_size > kMaxTokenFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the token file '", options_.file,
                                                   "' is not a readable file of at most ",
                                                   kMaxTokenFileBytes, " bytes"));
  }
  std::ifstream in(options_.file, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  const std::string token(absl::StripAsciiWhitespace(contents.str()));
  if (!in || token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the token file '", options_.file, "' is empty or unreadable"));
  }
  token_ = token;
  stamp_ = stamp;
  return absl::OkStatus();
}

std::string BearerTokenSource::Token() const {
  absl::MutexLock lock(&mutex_);
  if (options_.file.empty()) return token_;
  const int64_t now = NowSeconds();
  if (now != last_check_s_) {
    last_check_s_ = now;
    // A file being replaced may be missing or empty for a moment: the last token stays.
    if (StampOf(options_.file) != stamp_) Read().IgnoreError();
  }
  return token_;
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> BearerTokenInterceptor(
    std::shared_ptr<const BearerTokenSource> source) {
  return std::make_unique<InterceptorFactory>(std::move(source));
}

}  // namespace sonic::transport
