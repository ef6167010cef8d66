// A stand-in for a job that owns a TritonService with a fallback server, for the test that kills
// the job: `service_job_helper SERVER_BINARY MODEL_NAME MODEL_DIR` starts the fallback for the
// model, prints "fallback pid N" and sleeps until killed.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "sonic/service/triton_service.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: service_job_helper SERVER_BINARY MODEL_NAME MODEL_DIR\n";
    return 2;
  }
  sonic::service::TritonService::Options options;
  options.use_environment = false;
  options.config.fallback.enabled = true;
  options.config.fallback.binary = argv[1];
  options.config.models.push_back({argv[2], argv[3], ""});
  auto service = sonic::service::TritonService::Create(options);
  if (!service.ok()) {
    std::cerr << service.status() << "\n";
    return 1;
  }
  auto address = (*service)->Resolve(argv[2], "");
  if (!address.ok() || (*service)->FallbackPids().empty()) {
    std::cerr << address.status() << "\n";
    return 1;
  }
  std::cout << "fallback pid " << (*service)->FallbackPids()[0] << std::endl;
  for (;;) pause();
}
