// Request bodies of the HTTP system under test, built once before timing.
#include <fmt/format.h>

#include <array>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "joulebench/error.h"
#include "joulebench/http/http_sut.h"
#include "joulebench/workloads/synthetic_documents.h"

namespace joulebench::http {
namespace {

using nlohmann::json;

void AppendInts(std::string& out, const std::int64_t* values, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (i != 0) out += ',';
    fmt::format_to(std::back_inserter(out), "{}", values[i]);
  }
}

void AppendTensor(std::string& out, std::string_view name, std::int64_t rows, std::int64_t cols,
                  std::int64_t inner, const std::int64_t* values) {
  fmt::format_to(std::back_inserter(out), R"({{"name":"{}","datatype":"INT64","shape":[{},{})",
                 name, rows, cols);
  if (inner > 0) fmt::format_to(std::back_inserter(out), ",{}", inner);
  out += R"(],"data":[)";
  AppendInts(out, values, rows * cols * std::max<std::int64_t>(inner, 1));
  out += "]}";
}

// One document (row `row` of `batch`) as a KServe v2 inference request: the padded row, so
// that a server computes exactly what `joulebench infer` computes at the same --seq-len.
std::string KServeBody(const workloads::DocumentBatch& batch, std::int64_t row, bool with_bbox) {
  const std::int64_t s = batch.seq_len;
  std::string out = R"({"inputs":[)";
  AppendTensor(out, "input_ids", 1, s, 0, batch.input_ids.data() + row * s);
  out += ',';
  AppendTensor(out, "attention_mask", 1, s, 0, batch.attention_mask.data() + row * s);
  out += ',';
  AppendTensor(out, "token_type_ids", 1, s, 0, batch.token_type_ids.data() + row * s);
  if (with_bbox) {
    out += ',';
    AppendTensor(out, "bbox", 1, s, 4, batch.bbox.data() + row * s * 4);
  }
  out += "]}";
  return out;
}

// A word spelled from a token id (synthetic text for chat prompts, whose length follows the
// documents' token counts): the id's digits in base 16, each as one syllable.
std::string Word(std::int64_t id) {
  static constexpr std::array<std::string_view, 16> kSyllables = {
      "ka", "lo", "mi", "ne", "su", "ta", "ri", "po",
      "de", "gu", "ba", "fe", "zo", "hi", "ju", "wa"};
  std::string word;
  do {
    word += kSyllables[static_cast<std::size_t>(id % 16)];
    id /= 16;
  } while (id > 0);
  return word;
}

std::vector<std::int64_t> WordIds(const workloads::DocumentBatch& batch, std::int64_t row) {
  const std::int64_t s = batch.seq_len;
  const std::int64_t length = batch.lengths[static_cast<std::size_t>(row)];
  // Row: [CLS] words... [SEP] [PAD]...: the words are positions 1 .. length - 2.
  return {batch.input_ids.begin() + row * s + 1, batch.input_ids.begin() + row * s + length - 1};
}

json OpenAiBody(const HttpSutOptions& o, json prompt_or_messages, bool chat) {
  json body = {{"model", o.model}, {"max_tokens", o.max_tokens}, {"stream", o.stream}};
  body[chat ? "messages" : "prompt"] = std::move(prompt_or_messages);
  return body;
}

json ChatMessages(std::string text) {
  return json::array({json{{"role", "user"}, {"content", std::move(text)}}});
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(fmt::format(
        "samples_file '{}' cannot be read: check the path (one request sample per line)", path));
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
  }
  if (lines.empty()) {
    throw InputError(fmt::format("samples_file '{}' has no non-empty line", path));
  }
  return lines;
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("body '{}' cannot be read: check the path", path));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

RequestPayloads::RequestPayloads(std::string name, std::vector<std::string> bodies)
    : name_(std::move(name)), bodies_(std::move(bodies)) {
  if (bodies_.empty()) throw InputError("HTTP SUT: no request body to send");
}

std::size_t RequestPayloads::total_bytes() const {
  std::size_t n = 0;
  for (const auto& b : bodies_) n += b.size();
  return n;
}

std::shared_ptr<const RequestPayloads> MakePayloads(const HttpSutSpec& spec) {
  const HttpSutOptions& o = spec.sut;
  const PayloadOptions& p = spec.payloads;
  const bool chat = o.protocol == Protocol::kOpenAiChat;
  const bool openai = chat || o.protocol == Protocol::kOpenAiCompletions;
  std::vector<std::string> bodies;
  if (!p.body_file.empty()) {
    if (o.protocol != Protocol::kRaw) throw InputError("body=FILE applies to protocol=raw");
    bodies.push_back(ReadWhole(p.body_file));
    return std::make_shared<RequestPayloads>("body " + p.body_file, std::move(bodies));
  }
  if (!p.samples_file.empty()) {
    std::vector<std::string> lines = ReadLines(p.samples_file);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string& line = lines[i];
      const bool is_json = !line.empty() && line.front() == '{';
      if (o.protocol == Protocol::kKServe || (openai && is_json)) {
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          throw InputError(fmt::format(
              "samples_file '{}' line {}: not a JSON object (each line must be a whole {} "
              "request body)",
              p.samples_file, i + 1, ProtocolName(o.protocol)));
        }
        if (openai) {
          // The reply is parsed as the stream option says, so the request must ask for it.
          j["stream"] = o.stream;
          if (!j.contains("model")) j["model"] = o.model;
          line = j.dump();
        }
      } else if (openai) {
        line = OpenAiBody(o, chat ? ChatMessages(line) : json(line), chat).dump();
      }
      bodies.push_back(std::move(line));
    }
    return std::make_shared<RequestPayloads>("samples " + p.samples_file, std::move(bodies));
  }
  if (o.protocol == Protocol::kRaw) {
    // No body: GET requests (e.g. a health endpoint, or a benchmark's null server).
    bodies.emplace_back();
    return std::make_shared<RequestPayloads>("no body (GET)", std::move(bodies));
  }
  if (p.sample_count < 1) throw InputError("HTTP SUT: samples must be at least 1");
  workloads::DocumentGenerator documents(
      {.seq_len = p.seq_len, .vocab_size = p.vocab_size, .seed = p.seed});
  const workloads::DocumentBatch batch = documents.Next(static_cast<std::int64_t>(p.sample_count));
  bodies.reserve(p.sample_count);
  for (std::int64_t row = 0; row < batch.batch_size; ++row) {
    if (o.protocol == Protocol::kKServe) {
      bodies.push_back(KServeBody(batch, row, p.with_bbox));
    } else if (chat) {
      std::string text;
      for (std::int64_t id : WordIds(batch, row)) {
        if (!text.empty()) text += ' ';
        text += Word(id);
      }
      bodies.push_back(OpenAiBody(o, ChatMessages(std::move(text)), true).dump());
    } else {
      bodies.push_back(OpenAiBody(o, json(WordIds(batch, row)), false).dump());
    }
  }
  return std::make_shared<RequestPayloads>(
      fmt::format("synthetic documents ({}, {} tokens, seed {})", p.sample_count, p.seq_len,
                  p.seed),
      std::move(bodies));
}

}  // namespace joulebench::http
