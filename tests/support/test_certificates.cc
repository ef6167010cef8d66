#include "test_certificates.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace sonic::testing {
namespace {

// EC P-256 keys, two-day certificates; leaves get the extensions given as the fourth argument.
constexpr char kScript[] = R"sh(set -e
key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
ca() { openssl req -x509 $key -keyout $1.key -out $1.crt -days 2 -subj /CN=$1 \
         -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign; }
leaf() {
  openssl req $key -keyout $1.key -out $1.csr -subj /CN=$2
  printf "$4" > $1.ext
  openssl x509 -req -in $1.csr -CA $3.crt -CAkey $3.key -CAcreateserial -out $1.crt -days 2 \
    -extfile $1.ext
}
ca ca
ca other_ca
leaf server localhost ca 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
leaf client sonic-test-client ca 'extendedKeyUsage=clientAuth\n'
leaf other_client other-client other_ca 'extendedKeyUsage=clientAuth\n'
)sh";

}  // namespace

absl::Status MakeTestCertificates(const std::filesystem::path& dir) {
  {
    std::ofstream out(dir / "make_certificates.sh");
    out << kScript;
    if (!out) return absl::InternalError("cannot write make_certificates.sh");
  }
  const std::string command =
      absl::StrCat("cd '", dir.string(), "' && sh make_certificates.sh > openssl.log 2>&1");
  if (std::system(command.c_str()) != 0) {
    std::ifstream log(dir / "openssl.log");
    std::stringstream text;
    text << log.rdbuf();
    return absl::InternalError(absl::StrCat("openssl failed:\n", text.str()));
  }
  return absl::OkStatus();
}

}  // namespace sonic::testing
