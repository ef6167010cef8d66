// The built-in "identity" backend: every output is a copy of an input. Used to test the server
// without a machine-learning framework.
//
// Model configuration:
//  - the i-th output is the copy of the i-th input; the model must have as many outputs as
//    inputs and each pair must have the same data_type (checked at model_create:
//    INVALID_ARGUMENT naming the pair). Shapes and bytes are copied as they are, BYTES included.
//  - parameters { key: "execute_delay_ms" value { string_value: "50" } } makes every execution
//    sleep that long first (0 to 3,600,000 ms; default 0), to stand in for a slow model.
//
// Instances run on the CPU: a GPU instance is refused with FAILED_PRECONDITION (so KIND_AUTO
// falls back to the CPU on a GPU machine).
//
// Execution errors: INVALID_ARGUMENT for an output name not in the configuration or a missing
// input; INTERNAL when the server's allocator refuses an output.
#pragma once

#include "sonic/backend/backend_api.h"

namespace sonic::backends {

// The identity backend's function table (name "identity"); static, never null, valid for the
// life of the process. Thread-safety is as backend_api.h requires: instances are independent and
// share only immutable model state.
const SonicBackendApi* IdentityBackendApi();

}  // namespace sonic::backends
