// joulebench serve --model NAME [--listen 127.0.0.1:8000] [--max-batch B] [--max-delay D] ...
// Serves a built-in encoder over the KServe v2 REST protocol (dynamic batching), so the same
// model can be measured in-process (`infer`) and over HTTP (`loadgen --sut http:...`).
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "http/http_server.h"
#include "http/kserve_service.h"
#include "joulebench/error.h"
#include "joulebench/store/stop_signals.h"
#include "joulebench/units.h"
#include "joulebench/workloads/encoder_inference.h"
#include "joulebench/workloads/model_config.h"

namespace joulebench::cli {
namespace {

struct ServeFlags {
  std::string model = "layoutlm-base";
  std::string listen = "127.0.0.1:8000";
  std::int64_t max_batch = 8;
  std::string max_delay = "2ms";
  int threads = 1;
  std::string linear_kernel = "auto";
  std::string device = "cpu";
  std::string dtype = "fp32";
  std::string weights;
  std::uint64_t seed = 1;
  std::string duration;  // serve this long, then exit ("" = until SIGINT/SIGTERM)
};

int Run(const ServeFlags& f) {
  const workloads::ModelConfig config = workloads::FindModel(f.model);
  workloads::TorchOptions torch;
  torch.device = f.device;
  torch.dtype = workloads::ParseComputeDtype(f.dtype);
  torch.threads = f.threads;
  torch.linear_kernel = workloads::ParseLinearKernel(f.linear_kernel);
  torch.seed = f.seed;
  torch.weights_path = f.weights;
  if (f.max_batch < 1 || f.max_batch > 4096) {
    throw InputError(fmt::format("--max-batch: {} is out of range: 1..4096", f.max_batch));
  }
  workloads::DynamicBatchingOptions batching;
  batching.max_batch = f.max_batch;
  batching.max_delay = ParseDuration(f.max_delay, "--max-delay", /*allow_zero=*/true);
  std::optional<std::chrono::nanoseconds> duration;
  if (!f.duration.empty()) duration = ParseDuration(f.duration, "--duration");

  // Build the model before listening: a client that sees the port open can be served.
  auto encoder = std::make_shared<workloads::EncoderInference>(config, torch);
  {
    // One forward pass first (kernels chosen, memory allocated), so the first client's
    // latency is not the warm-up's.
    workloads::DocumentGenerator documents(
        {.seq_len = std::min<std::int64_t>(64, config.max_positions),
         .vocab_size = config.vocab_size});
    encoder->Run(documents.Next(1));
  }
  const bool layoutlm = config.family == workloads::ModelFamily::kLayoutLM;
  http::KServeModel model;
  model.name = config.name;
  model.platform = "joulebench_libtorch";
  model.with_bbox = layoutlm;
  model.max_seq_len = config.max_positions;
  model.vocab_size = config.vocab_size;
  if (layoutlm) {
    // LayoutLM's token-classification head: logits per token.
    model.output_name = "logits";
    model.output_width = config.num_labels;
    model.per_token = true;
    model.run = [encoder](const workloads::DocumentBatch& batch) {
      return encoder->RunAndFetch(batch);
    };
  } else {
    // BERT: the hidden state of each row's [CLS] token (what a classifier head reads).
    model.output_name = "cls_hidden_state";
    model.output_width = config.hidden_size;
    model.per_token = false;
    const std::int64_t h = config.hidden_size;
    model.run = [encoder, h](const workloads::DocumentBatch& batch) {
      const std::vector<float> all = encoder->RunAndFetch(batch);
      std::vector<float> cls(static_cast<std::size_t>(batch.batch_size * h));
      for (std::int64_t b = 0; b < batch.batch_size; ++b) {
        std::copy_n(all.begin() + b * batch.seq_len * h, h, cls.begin() + b * h);
      }
      return cls;
    };
  }
  const int threads = f.threads;
  http::KServeService service(std::move(model), batching,
                              [threads] { workloads::SetIntraOpThreads(threads); });
  http::HttpServerOptions server_options;
  server_options.listen = f.listen;
  http::HttpServer server(server_options,
                          [&service](http::ServerRequest&& request, http::Responder responder) {
                            service.Handle(std::move(request), std::move(responder));
                          });
  store::StopSignals stop;
  server.Start();
  std::printf("serving %s (KServe v2 REST, batch <= %lld, delay <= %s) on http://%s\n",
              config.name.c_str(), static_cast<long long>(f.max_batch),
              FormatDuration(std::chrono::duration<double>(batching.max_delay).count()).c_str(),
              server.address().c_str());
  std::printf("  POST http://%s/v2/models/%s/infer   (health: /v2/health/ready)\n",
              server.address().c_str(), config.name.c_str());
  std::fflush(stdout);
  const auto begin = std::chrono::steady_clock::now();
  while (!stop.requested()) {
    if (duration && std::chrono::steady_clock::now() - begin >= *duration) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  server.Stop();
  const http::KServeStats s = service.stats();
  std::printf(
      "served %llu inference requests (%llu documents in %llu batches), %llu refused "
      "(4xx), %llu failed (5xx)\n",
      static_cast<unsigned long long>(s.infer_requests), static_cast<unsigned long long>(s.rows),
      static_cast<unsigned long long>(s.batches), static_cast<unsigned long long>(s.rejected),
      static_cast<unsigned long long>(s.failed));
  std::fflush(stdout);
  return 0;
}

const CommandRegistration kServe{{
    "serve",
    "Serve a built-in model (LayoutLM, BERT) over HTTP with the KServe v2 protocol and "
    "dynamic batching, to measure it with loadgen --sut http:...",
    [](CLI::App& app) -> std::function<int()> {
      auto f = std::make_shared<ServeFlags>();
      app.add_option(
          "--model", f->model,
          "Built-in model (" + workloads::KnownModelNames() + "), default layoutlm-base");
      app.add_option("--listen", f->listen,
                     "HOST:PORT to listen on (default 127.0.0.1:8000, loopback only; port 0 = "
                     "any free port)");
      app.add_option("--max-batch", f->max_batch,
                     "Dynamic batching: most requests per model run (default 8)");
      app.add_option("--max-delay", f->max_delay,
                     "Dynamic batching: longest a request waits for its batch (default 2ms)");
      app.add_option("--threads", f->threads, "libtorch intra-op threads (default 1)");
      app.add_option("--linear-kernel", f->linear_kernel, "auto | blas | onednn (default auto)");
      app.add_option("--device", f->device, "cpu | cuda | cuda:N (default cpu)");
      app.add_option("--dtype", f->dtype, "fp32 | bf16 (default fp32)");
      app.add_option("--weights", f->weights, "State dict to load (default random weights)");
      app.add_option("--seed", f->seed, "Seed of the random weights (default 1)");
      app.add_option("--duration", f->duration,
                     "Serve this long, then exit (default: until SIGINT or SIGTERM)");
      return [f] { return Run(*f); };
    },
    45,
}};

}  // namespace
}  // namespace joulebench::cli
