// Who may call what on sonic-server, for every endpoint (gRPC, HTTP/REST, metrics): requests are
// sorted into classes, each needing a scope in the caller's bearer token when tokens are
// configured; repository control (loading and unloading models) is further kept to local
// callers, or off, or open to all.
//
//   class           what                                               default scope
//   health          liveness, readiness, model readiness, grpc.health  (always open: probes)
//   inference       infer, stream infer, server/model metadata, config, sonic.inference
//                   repository index (what a job discovers models with)
//   repository      model load and unload; log and trace settings      sonic.repository
//                   (the server's control)
//   shared_memory   system and CUDA shared-memory status, register,    sonic.shared_memory
//                   unregister
//   statistics      model statistics, the Prometheus metrics           sonic.statistics
//
// Without a TokenVerifier every caller has every class (tritonserver's behaviour); the
// repository-control rule applies either way.
//
// Thread-safe once constructed.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/auth/token_verifier.h"

namespace sonic::server::auth {

enum class AccessClass { kHealth, kInference, kRepository, kSharedMemory, kStatistics };

// The name used in flags and messages ("inference", "shared_memory", ...).
std::string_view AccessClassName(AccessClass access);
// INVALID_ARGUMENT for a name that is not one of AccessClassName's.
absl::StatusOr<AccessClass> ParseAccessClass(std::string_view name);

// Where RepositoryModelLoad / Unload (gRPC and HTTP) are accepted from.
enum class RepositoryControl {
  kLocal,  // loopback addresses and the Unix-domain socket
  kAny,    // any client (tritonserver's behaviour)
  kOff,    // nobody: the models are those of the command line and the repository
};

// What the frontend knows of a request's sender.
struct Caller {
  // The Authorization header (HTTP) or `authorization` metadata (gRPC) as sent; empty if none.
  std::string_view authorization;
  // Connected over loopback or the server's Unix-domain socket.
  bool local = false;
};

class AccessPolicy {
 public:
  struct Options {
    // Null: no tokens; every caller has every class.
    std::unique_ptr<TokenVerifier> verifier;
    // The scope each class needs. An empty scope: any valid token has the class.
    std::map<AccessClass, std::string> scopes = {
        {AccessClass::kInference, "sonic.inference"},
        {AccessClass::kRepository, "sonic.repository"},
        {AccessClass::kSharedMemory, "sonic.shared_memory"},
        {AccessClass::kStatistics, "sonic.statistics"}};
    // Classes open without a token (e.g. statistics for a Prometheus that sends none).
    std::set<AccessClass> anonymous;
    RepositoryControl repository_control = RepositoryControl::kLocal;
  };

  explicit AccessPolicy(Options options) : options_(std::move(options)) {}

  // OK when `caller` may make a request of class `access`. UNAUTHENTICATED when a token is
  // needed and missing, not a Bearer token, or refused (TokenVerifier's reason);
  // PERMISSION_DENIED naming the scope when the token lacks it.
  absl::Status Check(AccessClass access, const Caller& caller) const;
  // Whether Check(access, caller) is OK for every caller, so that a frontend need not find out
  // who calls (reading the peer and metadata costs on every request).
  bool OpenToAll(AccessClass access) const {
    return access == AccessClass::kHealth || options_.verifier == nullptr;
  }

  // Check(kRepository) and the repository-control rule: PERMISSION_DENIED naming
  // --repository-control when it is off, or when it is kLocal and the caller is remote.
  absl::Status CheckRepositoryControl(const Caller& caller) const;

  bool tokens_required() const { return options_.verifier != nullptr; }
  RepositoryControl repository_control() const { return options_.repository_control; }

 private:
  const Options options_;
};

// The token of an Authorization value "Bearer <token>" (scheme case-insensitive, RFC 6750), or
// nothing.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// Whether `address` (an IP address as text, IPv4, IPv6 or IPv4-mapped IPv6) is a loopback one.
bool IsLoopbackAddress(std::string_view address);
// Whether a gRPC peer ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "unix:...") is local.
bool IsLoopbackGrpcPeer(std::string_view peer);

}  // namespace sonic::server::auth
