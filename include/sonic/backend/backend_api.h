/* The SONIC backend interface: the versioned C boundary between sonic-server and a backend.
 *
 * A backend is a shared library `libsonic_backend_<name>.so` exporting
 *     const SonicBackendApi* SonicBackendGetApi(void);
 * (or a table built into the server, for the built-in backends). The server calls the table's
 * functions; exceptions never cross this boundary, every failure is a SonicBackendError.
 *
 * Objects and ownership:
 *  - a SonicBackendModel is one loaded version of one model; created by model_create, destroyed
 *    by model_destroy after every instance of it is destroyed;
 *  - a SonicBackendInstance is one execution context of a model (a copy of the model on a device
 *    with its own threads); created by instance_create, destroyed by instance_destroy;
 *  - a SonicBackendError is created by the backend and owned by the server, which reads it with
 *    error_code/error_message and frees it with error_delete.
 *  - everything passed in by the server (strings, tensors, shapes) is borrowed for the call only.
 *
 * Concurrency: model_create/model_destroy are never called concurrently for one model.
 * instance_execute is never called twice at once on one instance; different instances (of the
 * same or different models) execute concurrently, so state shared between instances must be
 * thread-safe.
 *
 * Batches: the server assembles a batch before calling instance_execute. Each input tensor holds
 * the inputs of all requests of the batch, concatenated along the batch dimension (or, for
 * inputs with allow_ragged_batch, flattened and concatenated), in host memory, contiguous and
 * aligned for their element type, no further: a request alone is handed over in the bytes it
 * arrived in, wherever they lie (a backend whose library wants wider alignment, as TensorFlow's
 * 64 bytes, copies; TF_NewTensor does so itself). Batch-input tensors (config batch_input)
 * appear as extra inputs.
 * A backend that also exports SonicBackendGetRequestApi (below) is instead handed the batch
 * request by request (as Triton's TRITONBACKEND_ModelInstanceExecute): each request's own
 * tensors, and one response (outputs or an error) per request.
 */
#ifndef SONIC_BACKEND_BACKEND_API_H_
#define SONIC_BACKEND_BACKEND_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change; the server refuses a backend built for another version. */
#define SONIC_BACKEND_API_VERSION 2

/* Error codes, with the numbers and retry meaning of absl::StatusCode / gRPC codes. */
typedef enum SonicBackendErrorCode {
  SONIC_BACKEND_ERROR_INVALID_ARGUMENT = 3, /* the request or model files are wrong */
  SONIC_BACKEND_ERROR_NOT_FOUND = 5,
  SONIC_BACKEND_ERROR_FAILED_PRECONDITION = 9,
  SONIC_BACKEND_ERROR_UNIMPLEMENTED = 12,
  SONIC_BACKEND_ERROR_INTERNAL = 13,
  SONIC_BACKEND_ERROR_UNAVAILABLE = 14, /* transient: retrying may work */
} SonicBackendErrorCode;

typedef struct SonicBackendError SonicBackendError;
typedef struct SonicBackendModel SonicBackendModel;
typedef struct SonicBackendInstance SonicBackendInstance;

/* Element types use the numbers of model_config.proto's DataType (TYPE_FP32 = 11, ...). */
typedef struct SonicBackendTensor {
  const char* name;
  int32_t data_type;
  const int64_t* shape;
  uint32_t rank;
  const void* data;
  uint64_t byte_size;
} SonicBackendTensor;

/* What the server tells a model about itself. */
typedef struct SonicBackendModelSpec {
  const char* name;
  int64_t version;
  /* The model's version directory: <repository>/<model>/<version>. */
  const char* version_path;
  /* The validated inference.ModelConfig, serialized in protobuf binary format. */
  const void* config;
  size_t config_size;
  /* The server's --backend-config settings for this backend (tritonserver's
   * --backend-config=<backend>,<key>=<value>; those given without a backend apply to every one,
   * a backend's own winning), as `backend_config_count` key/value strings. As Triton's backends,
   * a backend ignores the keys it does not know. Valid during model_create only. */
  const char* const* backend_config_keys;
  const char* const* backend_config_values;
  uint32_t backend_config_count;
} SonicBackendModelSpec;

typedef enum SonicBackendInstanceKind {
  SONIC_BACKEND_INSTANCE_CPU = 0,
  SONIC_BACKEND_INSTANCE_GPU = 1,
} SonicBackendInstanceKind;

typedef struct SonicBackendInstanceSpec {
  const char* name; /* unique per model, e.g. "mlp_0_1" */
  SonicBackendInstanceKind kind;
  int32_t device_id; /* GPU ordinal; -1 for CPU */
} SonicBackendInstanceSpec;

/* Hands out the memory an output is written to. `allocate` returns a buffer of `byte_size`
 * bytes for the named output, valid until instance_execute returns; NULL when the server refuses
 * (unknown output, or a size that does not match shape and type), in which case the backend
 * stops and returns an error. Outputs that were not asked for need not be allocated. */
typedef struct SonicBackendOutputAllocator {
  void* context;
  void* (*allocate)(void* context, const char* name, int32_t data_type, const int64_t* shape,
                    uint32_t rank, uint64_t byte_size);
} SonicBackendOutputAllocator;

/* One request of a batch handed over request by request (SonicBackendRequestApi). Its inputs are
 * the tensors as the client sent them (the batch dimension first when the model has max_batch_size
 * > 0), in host memory, contiguous, with no alignment promised; no batch-input tensors. */
typedef struct SonicBackendRequest {
  const char* id;      /* the client's request id, "" when none */
  uint64_t batch_size; /* leading dimension of every input; 1 when max_batch_size is 0 */
  const SonicBackendTensor* inputs;
  uint32_t input_count;
  const char* const* output_names; /* the outputs this request asked for */
  uint32_t output_count;
} SonicBackendRequest;

/* Where the responses of a batch handed over request by request go. `allocate` is the
 * SonicBackendOutputAllocator's, for the request at `request_index` (the shape starts with that
 * request's batch size): NULL when refused (an output the request did not ask for, one already
 * allocated, a type or shape the config does not allow), which fails that request only. `fail`
 * makes the request's response an error with `code` (a SonicBackendErrorCode) and `message`
 * (copied); its outputs are dropped. A request neither failed nor given every output it asked
 * for gets an INTERNAL error naming the missing output. */
typedef struct SonicBackendResponder {
  void* context;
  void* (*allocate)(void* context, uint32_t request_index, const char* name, int32_t data_type,
                    const int64_t* shape, uint32_t rank, uint64_t byte_size);
  void (*fail)(void* context, uint32_t request_index, int32_t code, const char* message);
} SonicBackendResponder;

typedef struct SonicBackendApi {
  uint32_t api_version; /* SONIC_BACKEND_API_VERSION */
  const char* name;     /* the backend name used in config.pbtxt, e.g. "pytorch" */

  int32_t (*error_code)(const SonicBackendError* error);
  const char* (*error_message)(const SonicBackendError* error);
  void (*error_delete)(SonicBackendError* error);

  /* Loads the model's files; returns NULL and sets *model on success. */
  SonicBackendError* (*model_create)(const SonicBackendModelSpec* spec, SonicBackendModel** model);
  void (*model_destroy)(SonicBackendModel* model);

  SonicBackendError* (*instance_create)(SonicBackendModel* model,
                                        const SonicBackendInstanceSpec* spec,
                                        SonicBackendInstance** instance);
  void (*instance_destroy)(SonicBackendInstance* instance);

  /* Runs one batch. `inputs` are every model input plus the batch inputs; `output_names` are the
   * outputs to produce (each allocated through `allocator`); `batch_size` is the number of
   * batch entries (1 when the model has max_batch_size 0). Blocks until done. */
  SonicBackendError* (*instance_execute)(SonicBackendInstance* instance,
                                         const SonicBackendTensor* inputs, uint32_t input_count,
                                         const char* const* output_names, uint32_t output_count,
                                         uint64_t batch_size,
                                         const SonicBackendOutputAllocator* allocator);
} SonicBackendApi;

/* The symbol a backend library exports. */
typedef const SonicBackendApi* (*SonicBackendGetApiFn)(void);
#define SONIC_BACKEND_GET_API_SYMBOL "SonicBackendGetApi"

/* Request-by-request execution, an optional second table: a plugin that exports
 *     const SonicBackendRequestApi* SonicBackendGetRequestApi(void);
 * besides SonicBackendGetApi is handed every batch request by request: the server calls
 * instance_execute_requests instead of its instance_execute (which it must still implement, for
 * servers that do not look for this symbol). A separate symbol, so that neither the main table's
 * layout nor SONIC_BACKEND_API_VERSION changes. */
typedef struct SonicBackendRequestApi {
  uint32_t api_version; /* SONIC_BACKEND_API_VERSION */
  /* The `request_count` requests of one batch, in order, each answered through `responder`.
   * Same concurrency and blocking as instance_execute. An error returned fails the whole batch,
   * as instance_execute's does (the server then runs each request alone); an error of one request
   * goes through responder->fail. */
  SonicBackendError* (*instance_execute_requests)(SonicBackendInstance* instance,
                                                  const SonicBackendRequest* requests,
                                                  uint32_t request_count,
                                                  const SonicBackendResponder* responder);
} SonicBackendRequestApi;

typedef const SonicBackendRequestApi* (*SonicBackendGetRequestApiFn)(void);
#define SONIC_BACKEND_GET_REQUEST_API_SYMBOL "SonicBackendGetRequestApi"

#ifdef __cplusplus
}
#endif

#endif /* SONIC_BACKEND_BACKEND_API_H_ */
