// Transport security of a connection to a server, as PEM file names, and the bearer token its
// calls carry. Used by TritonClient's options, the service's server list and the command-line
// tools.
#pragma once

#include <string>

namespace sonic::client {

// Files are PEM, read when a channel is made (a missing file is an INVALID_ARGUMENT error).
struct TlsOptions {
  bool enabled = false;
  std::string root_certificates_file;  // empty: the system's trust store
  std::string private_key_file;        // with certificate_chain_file: mutual TLS
  std::string certificate_chain_file;
  // A bearer token sent with every call as `authorization: Bearer <token>` (what sonic-server's
  // --auth-* flags check), over TLS or not: read from `token_file`, again whenever the file
  // changes (a grid job's refreshed BEARER_TOKEN_FILE), else from the environment variable named
  // `token_env`. Both empty: no token. A file or variable that gives no token is an
  // INVALID_ARGUMENT error when the channel is made.
  std::string token_file;
  std::string token_env;
  bool operator==(const TlsOptions&) const = default;
};

}  // namespace sonic::client
