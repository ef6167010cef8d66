#include "server/auth/access_policy.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sonic::server::auth {
namespace {

constexpr std::pair<AccessClass, std::string_view> kClassNames[] = {
    {AccessClass::kHealth, "health"},
    {AccessClass::kInference, "inference"},
    {AccessClass::kRepository, "repository"},
    {AccessClass::kSharedMemory, "shared_memory"},
    {AccessClass::kStatistics, "statistics"}};

}  // namespace

std::string_view AccessClassName(AccessClass access) {
  for (const auto& [value, name] : kClassNames) {
    if (value == access) return name;
  }
  return "unknown";
}

absl::StatusOr<AccessClass> ParseAccessClass(std::string_view name) {
  for (const auto& [value, known] : kClassNames) {
    if (known == name) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", std::string(name),
                   "' is not a request class (inference, repository, shared_memory, statistics)"));
}

absl::Status AccessPolicy::Check(AccessClass access, const Caller& caller) const {
  if (OpenToAll(access)) return absl::OkStatus();
  if (caller.authorization.empty() && options_.anonymous.contains(access)) {
    return absl::OkStatus();
  }
  const std::string name(AccessClassName(access));
  if (caller.authorization.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat(name, " requests need a bearer token (authorization: Bearer <JWT>)"));
  }
  std::optional<std::string_view> token = BearerToken(caller.authorization);
  if (!token) {
    return absl::UnauthenticatedError("the authorization is not a bearer token (Bearer <JWT>)");
  }
  absl::StatusOr<TokenClaims> claims = options_.verifier->Verify(*token);
  if (!claims.ok()) return claims.status();
  const auto scope = options_.scopes.find(access);
  if (scope == options_.scopes.end() || scope->second.empty() ||
      claims->scopes.contains(scope->second)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(name, " requests need the token scope '", scope->second, "'"));
}

absl::Status AccessPolicy::CheckRepositoryControl(const Caller& caller) const {
  switch (options_.repository_control) {
    case RepositoryControl::kOff:
      return absl::PermissionDeniedError(
          "loading and unloading models is off on this server (--repository-control=off)");
    case RepositoryControl::kLocal:
      if (!caller.local) {
        return absl::PermissionDeniedError(
            "models are loaded and unloaded only by local clients (loopback or the Unix-domain "
            "socket; --repository-control=any opens it to all)");
      }
      break;
    case RepositoryControl::kAny:
      break;
  }
  return Check(AccessClass::kRepository, caller);
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  absl::string_view value(authorization.data(), authorization.size());
  value = absl::StripAsciiWhitespace(value);
  constexpr absl::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme) ||
      !absl::ascii_isspace(static_cast<unsigned char>(value[kScheme.size()]))) {
    return std::nullopt;
  }
  value = absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size()));
  if (value.empty()) return std::nullopt;
  return std::string_view(value.data(), value.size());
}

bool IsLoopbackAddress(std::string_view address) {
  const std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

bool IsLoopbackGrpcPeer(std::string_view peer) {
  absl::string_view rest(peer.data(), peer.size());
  if (absl::StartsWith(rest, "unix:")) return true;
  if (absl::ConsumePrefix(&rest, "ipv4:")) {
    rest = rest.substr(0, rest.rfind(':'));
  } else if (absl::ConsumePrefix(&rest, "ipv6:")) {
    rest = rest.substr(0, rest.rfind(':'));
    if (!absl::ConsumePrefix(&rest, "[")) absl::ConsumePrefix(&rest, "%5B");
    if (!absl::ConsumeSuffix(&rest, "]")) absl::ConsumeSuffix(&rest, "%5D");
  } else {
    return false;
  }
  return IsLoopbackAddress(std::string_view(rest.data(), rest.size()));
}

}  // namespace sonic::server::auth
