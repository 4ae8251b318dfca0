#include "http/kserve_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>

#include "joulebench/load/query.h"

namespace joulebench::http {
namespace {

using nlohmann::json;

// LayoutLM's 2-D position tables have 1024 rows (max_2d_position_embeddings), and widths and
// heights index the same tables: coordinates must lie in 0..1023 with x0 <= x1, y0 <= y1.
constexpr std::int64_t kMaxCoordinate = 1023;

ServerReply Error(int status, std::string message) {
  return {status, "application/json", json{{"error", std::move(message)}}.dump()};
}

struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> data;
};

// A tensor holds at most this many values: a 64 MiB body holds fewer than 2^25 numbers, and
// the bound keeps every product of dimensions (and x 4 for boxes) far from int64 overflow.
constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 32;

// The values of `j` in row-major order. Arrays may nest as deep as the shape has dimensions
// (KServe allows flat and nested data); deeper nesting is refused before it can exhaust the
// stack of this recursion.
void Flatten(const json& j, std::size_t depth_left, std::vector<std::int64_t>& out) {
  if (j.is_array()) {
    if (depth_left == 0) throw std::invalid_argument("tensor data is nested deeper than its shape");
    for (const auto& v : j) Flatten(v, depth_left - 1, out);
  } else if (j.is_number_integer()) {
    out.push_back(j.get<std::int64_t>());
  } else {
    throw std::invalid_argument("tensor data must be integers");
  }
}

// Reads an integer tensor; throws invalid_argument with the reason.
Tensor ReadTensor(const json& input) {
  Tensor t;
  const std::string name = input.value("name", "");
  const auto shape = input.find("shape");
  if (shape == input.end() || !shape->is_array() || shape->empty()) {
    throw std::invalid_argument(fmt::format("input '{}' has no \"shape\"", name));
  }
  std::int64_t count = 1;
  for (const auto& d : *shape) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 1) {
      throw std::invalid_argument(fmt::format("input '{}': shape must be positive integers", name));
    }
    t.shape.push_back(d.get<std::int64_t>());
    if (t.shape.back() > kMaxTensorElements / count) {
      throw std::invalid_argument(
          fmt::format("input '{}': shape has more than {} elements", name, kMaxTensorElements));
    }
    count *= t.shape.back();
  }
  const std::string datatype = input.value("datatype", "");
  if (datatype != "INT64" && datatype != "INT32") {
    throw std::invalid_argument(
        fmt::format("input '{}': datatype must be INT64 or INT32 (got '{}')", name, datatype));
  }
  const auto data = input.find("data");
  if (data == input.end()) {
    throw std::invalid_argument(fmt::format(
        "input '{}' has no \"data\" (the binary-data extension is not supported)", name));
  }
  // Reserve for what the body can hold, not for what the shape claims.
  t.data.reserve(static_cast<std::size_t>(std::min<std::int64_t>(count, 1 << 20)));
  Flatten(*data, t.shape.size(), t.data);
  if (static_cast<std::int64_t>(t.data.size()) != count) {
    throw std::invalid_argument(
        fmt::format("input '{}': {} values for shape of {} elements", name, t.data.size(), count));
  }
  return t;
}

}  // namespace

KServeInferRequest ParseKServeInferRequest(const std::string& body, const KServeModel& model) {
  KServeInferRequest request;
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("body is not a JSON object");
  if (const auto id = j.find("id"); id != j.end() && id->is_string()) {
    request.id = id->get<std::string>();
  }
  const auto inputs = j.find("inputs");
  if (inputs == j.end() || !inputs->is_array() || inputs->empty()) {
    throw std::invalid_argument("request has no \"inputs\" array");
  }
  std::optional<Tensor> ids, mask, types, bbox;
  for (const auto& input : *inputs) {
    if (!input.is_object()) throw std::invalid_argument("an input is not an object");
    const std::string name = input.value("name", "");
    if (name == "input_ids") {
      ids = ReadTensor(input);
    } else if (name == "attention_mask") {
      mask = ReadTensor(input);
    } else if (name == "token_type_ids") {
      types = ReadTensor(input);
    } else if (name == "bbox" && model.with_bbox) {
      bbox = ReadTensor(input);
    } else {
      throw std::invalid_argument(
          fmt::format("unknown input '{}' for model '{}'", name, model.name));
    }
  }
  if (!ids) throw std::invalid_argument("input 'input_ids' is required");
  std::vector<std::int64_t> shape = ids->shape;
  if (shape.size() == 1) shape.insert(shape.begin(), 1);
  if (shape.size() != 2) throw std::invalid_argument("input_ids must have shape [batch, tokens]");
  const std::int64_t b = shape[0], s = shape[1];
  if (s > model.max_seq_len) {
    throw std::invalid_argument(fmt::format("{} tokens per row is more than {}'s {} positions", s,
                                            model.name, model.max_seq_len));
  }
  auto same = [&](const std::optional<Tensor>& t, std::string_view name, std::int64_t inner) {
    if (!t) return;
    if (static_cast<std::int64_t>(t->data.size()) != b * s * inner) {
      throw std::invalid_argument(
          fmt::format("input '{}' does not match input_ids' shape [{}, {}]", name, b, s));
    }
  };
  same(mask, "attention_mask", 1);
  same(types, "token_type_ids", 1);
  same(bbox, "bbox", 4);
  for (std::int64_t v : ids->data) {
    if (v < 0 || v >= model.vocab_size) {
      throw std::invalid_argument(
          fmt::format("token id {} is outside the vocabulary 0..{}", v, model.vocab_size - 1));
    }
  }
  if (types) {
    for (std::int64_t v : types->data) {
      if (v < 0 || v > 1) throw std::invalid_argument("token_type_ids must be 0 or 1");
    }
  }
  if (bbox) {
    for (std::size_t i = 0; i < bbox->data.size(); i += 4) {
      const std::int64_t* q = bbox->data.data() + i;
      for (int k = 0; k < 4; ++k) {
        if (q[k] < 0 || q[k] > kMaxCoordinate) {
          throw std::invalid_argument(
              fmt::format("bbox coordinate {} is outside 0..{}", q[k], kMaxCoordinate));
        }
      }
      if (q[2] < q[0] || q[3] < q[1]) throw std::invalid_argument("bbox needs x0 <= x1, y0 <= y1");
    }
  }
  workloads::DocumentBatch& r = request.rows;
  r.batch_size = b;
  r.seq_len = s;
  r.input_ids = std::move(ids->data);
  r.attention_mask =
      mask ? std::move(mask->data) : std::vector<std::int64_t>(static_cast<std::size_t>(b * s), 1);
  r.token_type_ids = types ? std::move(types->data)
                           : std::vector<std::int64_t>(static_cast<std::size_t>(b * s), 0);
  r.bbox = bbox ? std::move(bbox->data)
                : std::vector<std::int64_t>(static_cast<std::size_t>(b * s * 4), 0);
  return request;
}

struct KServeService::Impl final : load::QueryCompleter {
  KServeModel model;
  std::unique_ptr<workloads::DynamicBatchingSut> batcher;

  struct Slot {
    workloads::DocumentBatch rows;
    std::string request_id;
    Responder responder;
    std::string reply;
  };
  std::mutex mutex;
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<std::size_t> free_slots;
  std::atomic<std::uint64_t> infer_requests{0}, rows{0}, rejected{0}, failed{0}, batches{0};

  std::string MetadataJson() const {
    json inputs = json::array({
        json{{"name", "input_ids"}, {"datatype", "INT64"}, {"shape", {-1, -1}}},
        json{{"name", "attention_mask"}, {"datatype", "INT64"}, {"shape", {-1, -1}}},
        json{{"name", "token_type_ids"}, {"datatype", "INT64"}, {"shape", {-1, -1}}},
    });
    if (model.with_bbox) {
      inputs.push_back(json{{"name", "bbox"}, {"datatype", "INT64"}, {"shape", {-1, -1, 4}}});
    }
    json out_shape =
        model.per_token ? json{-1, -1, model.output_width} : json{-1, model.output_width};
    return json{{"name", model.name},
                {"versions", {"1"}},
                {"platform", model.platform},
                {"inputs", std::move(inputs)},
                {"outputs", json::array({json{{"name", model.output_name},
                                              {"datatype", "FP32"},
                                              {"shape", std::move(out_shape)}}})}}
        .dump();
  }

  // Runs the slots' rows as one batch (padded to the longest) and writes each slot's reply.
  void RunBatch(std::span<const load::SampleIndex> samples) {
    std::vector<Slot*> batch;
    {
      std::lock_guard lock(mutex);
      for (load::SampleIndex i : samples) batch.push_back(slots[i].get());
    }
    workloads::DocumentBatch all;
    for (const Slot* slot : batch) {
      all.batch_size += slot->rows.batch_size;
      all.seq_len = std::max(all.seq_len, slot->rows.seq_len);
    }
    const std::int64_t S = all.seq_len;
    const auto cells = static_cast<std::size_t>(all.batch_size * S);
    all.input_ids.assign(cells, workloads::kPadTokenId);
    all.attention_mask.assign(cells, 0);
    all.token_type_ids.assign(cells, 0);
    all.bbox.assign(cells * 4, 0);
    std::int64_t row = 0;
    for (const Slot* slot : batch) {
      const auto& r = slot->rows;
      for (std::int64_t i = 0; i < r.batch_size; ++i, ++row) {
        auto copy = [&](const std::vector<std::int64_t>& from, std::vector<std::int64_t>& to,
                        std::int64_t width) {
          std::copy(from.begin() + i * r.seq_len * width,
                    from.begin() + (i + 1) * r.seq_len * width, to.begin() + row * S * width);
        };
        copy(r.input_ids, all.input_ids, 1);
        copy(r.attention_mask, all.attention_mask, 1);
        copy(r.token_type_ids, all.token_type_ids, 1);
        copy(r.bbox, all.bbox, 4);
      }
    }
    const std::vector<float> out = model.run(all);
    const std::int64_t w = model.output_width;
    const std::int64_t per_row = model.per_token ? S * w : w;
    if (static_cast<std::int64_t>(out.size()) != all.batch_size * per_row) {
      throw std::runtime_error(fmt::format("the model returned {} values, expected {}", out.size(),
                                           all.batch_size * per_row));
    }
    row = 0;
    for (Slot* slot : batch) {
      const auto& r = slot->rows;
      std::string& reply = slot->reply;
      reply.clear();
      json head = {{"model_name", model.name}, {"model_version", "1"}};
      if (!slot->request_id.empty()) head["id"] = slot->request_id;
      reply = head.dump();
      reply.pop_back();  // reopen the object for the outputs
      if (model.per_token) {
        fmt::format_to(std::back_inserter(reply),
                       R"(,"outputs":[{{"name":"{}","datatype":"FP32","shape":[{},{},{}],"data":[)",
                       model.output_name, r.batch_size, r.seq_len, w);
      } else {
        fmt::format_to(std::back_inserter(reply),
                       R"(,"outputs":[{{"name":"{}","datatype":"FP32","shape":[{},{}],"data":[)",
                       model.output_name, r.batch_size, w);
      }
      bool first = true;
      for (std::int64_t i = 0; i < r.batch_size; ++i, ++row) {
        const float* base = out.data() + row * per_row;
        const std::int64_t n = model.per_token ? r.seq_len * w : w;  // the row's own tokens
        for (std::int64_t k = 0; k < n; ++k) {
          if (!first) reply += ',';
          first = false;
          fmt::format_to(std::back_inserter(reply), "{:.6g}", base[k]);
        }
      }
      reply += "]}]}";
      rows.fetch_add(static_cast<std::uint64_t>(r.batch_size), std::memory_order_relaxed);
    }
    batches.fetch_add(1, std::memory_order_relaxed);
  }

  void Complete(std::span<const load::QueryResponse> responses) noexcept override {
    for (const auto& r : responses) {
      Responder responder;
      ServerReply reply;
      {
        std::lock_guard lock(mutex);
        Slot& slot = *slots[r.id];
        responder = std::move(slot.responder);
        if (r.ok) {
          reply = {200, "application/json", std::move(slot.reply)};
        } else {
          reply = Error(500, fmt::format("model '{}' failed: {}", model.name,
                                         batcher ? batcher->first_error() : "unknown"));
          failed.fetch_add(1, std::memory_order_relaxed);
        }
        slot.rows = {};
        slot.reply = {};
        slot.request_id.clear();
        free_slots.push_back(r.id);
      }
      responder.Send(std::move(reply));
    }
  }

  void Infer(ServerRequest&& request, Responder responder) {
    std::size_t index = 0;
    Slot* slot = nullptr;
    {
      std::lock_guard lock(mutex);
      if (free_slots.empty()) {
        slots.push_back(std::make_unique<Slot>());
        free_slots.push_back(slots.size() - 1);
      }
      index = free_slots.back();
      free_slots.pop_back();
      slot = slots[index].get();
    }
    try {
      KServeInferRequest parsed = ParseKServeInferRequest(request.body, model);
      slot->rows = std::move(parsed.rows);
      slot->request_id = std::move(parsed.id);
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mutex);
        slot->rows = {};
        free_slots.push_back(index);
      }
      rejected.fetch_add(1, std::memory_order_relaxed);
      responder.Send(
          Error(400, fmt::format("bad inference request for '{}': {}", model.name, e.what())));
      return;
    }
    slot->responder = std::move(responder);
    infer_requests.fetch_add(1, std::memory_order_relaxed);
    const load::Query q{index, index};
    batcher->IssueQuery(std::span<const load::Query>(&q, 1), *this);
  }
};

KServeService::KServeService(KServeModel model, workloads::DynamicBatchingOptions batching,
                             std::function<void()> on_worker_start)
    : impl_(std::make_unique<Impl>()) {
  impl_->model = std::move(model);
  Impl* impl = impl_.get();
  impl_->batcher = std::make_unique<workloads::DynamicBatchingSut>(
      impl_->model.name, batching,
      [impl](std::span<const load::SampleIndex> samples) { impl->RunBatch(samples); },
      std::move(on_worker_start));
}

KServeService::~KServeService() {
  impl_->batcher->FlushQueries();
  impl_->batcher.reset();  // the worker finishes what is queued, then stops
}

void KServeService::Handle(ServerRequest&& request, Responder responder) {
  const KServeModel& m = impl_->model;
  const std::string& path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/v2/health/live" || path == "/v2/health/ready") {
    if (!get) return responder.Send(Error(405, "use GET"));
    return responder.Send({200, "application/json",
                           path.ends_with("live") ? R"({"live":true})" : R"({"ready":true})"});
  }
  if (path == "/v2" || path == "/v2/") {
    return responder.Send(
        {200, "application/json",
         json{{"name", "joulebench"}, {"version", "1"}, {"extensions", json::array()}}.dump()});
  }
  const std::string prefix = "/v2/models/";
  if (!path.starts_with(prefix)) {
    return responder.Send(
        Error(404, fmt::format("no endpoint {} (KServe v2: /v2/models/{}/infer)", path, m.name)));
  }
  std::string rest = path.substr(prefix.size());
  const std::size_t slash = rest.find('/');
  const std::string name = rest.substr(0, slash);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (name != m.name) {
    return responder.Send(Error(
        404, fmt::format("model '{}' is not served here; this server serves '{}'", name, m.name)));
  }
  if (action.starts_with("versions/")) {  // /versions/{v}[/action]: one version, "1"
    const std::string after = action.substr(9);
    const std::size_t s2 = after.find('/');
    if (after.substr(0, s2) != "1") return responder.Send(Error(404, "model version must be 1"));
    action = s2 == std::string::npos ? "" : after.substr(s2 + 1);
  }
  if (action.empty()) {
    if (!get) return responder.Send(Error(405, "use GET for model metadata"));
    return responder.Send({200, "application/json", impl_->MetadataJson()});
  }
  if (action == "ready") {
    return responder.Send(
        {200, "application/json", json{{"name", m.name}, {"ready", true}}.dump()});
  }
  if (action == "infer") {
    if (request.method != "POST") return responder.Send(Error(405, "use POST for inference"));
    return impl_->Infer(std::move(request), std::move(responder));
  }
  responder.Send(Error(404, fmt::format("no endpoint {}", path)));
}

KServeStats KServeService::stats() const {
  return {impl_->infer_requests.load(), impl_->rows.load(), impl_->rejected.load(),
          impl_->failed.load(), impl_->batches.load()};
}

}  // namespace joulebench::http
