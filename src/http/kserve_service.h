// The KServe v2 / Triton REST protocol in front of one encoder model: health, metadata and
// inference endpoints, with inference requests batched dynamically (the load generator's
// DynamicBatchingSut, fed by HTTP requests instead of generated queries). Torch-free: the
// model is a function from a batch of documents to one float tensor per row.
//
//   GET  /v2/health/live, /v2/health/ready         200 when serving
//   GET  /v2                                        server metadata
//   GET  /v2/models/{name}, /v2/models/{name}/ready model metadata / readiness
//   POST /v2/models/{name}/infer                    JSON tensors in, JSON tensors out
//
// Protocol: https://kserve.github.io/website/ (Open Inference Protocol, REST). Only JSON
// tensor data is accepted (no binary-data extension).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/http_server.h"
#include "joulebench/workloads/dynamic_batching_sut.h"
#include "joulebench/workloads/synthetic_documents.h"

namespace joulebench::http {

struct KServeModel {
  std::string name;  // in the URL and the metadata
  std::string platform = "joulebench";
  bool with_bbox = true;               // LayoutLM: the "bbox" input exists (zeros if absent)
  std::int64_t max_seq_len = 512;      // longer rows are refused with 400
  std::int64_t vocab_size = 30522;     // token ids must be below this
  std::string output_name = "logits";  // the one output tensor
  // Runs a batch (rows padded to the batch's longest); returns rows x output_width floats per
  // token (per_token) or per row. Called on the batching worker thread only.
  std::function<std::vector<float>(const workloads::DocumentBatch&)> run;
  std::int64_t output_width = 1;
  bool per_token = true;  // output shape [B, S, width] (else [B, width])
};

struct KServeStats {
  std::uint64_t infer_requests = 0;  // accepted inference requests
  std::uint64_t rows = 0;            // documents inferred
  std::uint64_t rejected = 0;        // 4xx replies
  std::uint64_t failed = 0;          // 5xx replies (the model threw)
  std::uint64_t batches = 0;         // model runs
};

class KServeService {
 public:
  KServeService(KServeModel model, workloads::DynamicBatchingOptions batching,
                std::function<void()> on_worker_start = {});
  ~KServeService();  // waits for the batches in flight
  KServeService(const KServeService&) = delete;
  KServeService& operator=(const KServeService&) = delete;

  // The HttpServer handler.
  void Handle(ServerRequest&& request, Responder responder);
  KServeStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An inference request's body as rows of documents: input_ids of shape [batch, tokens] (or
// [tokens]), and optionally attention_mask, token_type_ids and (LayoutLM) bbox of the same
// shape. Throws std::invalid_argument with the reason, which the server sends back with 400.
struct KServeInferRequest {
  workloads::DocumentBatch rows;
  std::string id;  // the request's "id", echoed in the reply
};
KServeInferRequest ParseKServeInferRequest(const std::string& body, const KServeModel& model);

}  // namespace joulebench::http
