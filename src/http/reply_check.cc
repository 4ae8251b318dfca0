#include "http/reply_check.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "joulebench/printable_text.h"

namespace joulebench::http {
namespace {

using nlohmann::json;

// The reason goes into the run's warnings, which are stored as JSON: printable UTF-8 only.
std::string Excerpt(std::string_view text) { return PrintableText(text.substr(0, 1024), 80); }

bool Fail(std::string* why, std::string reason) {
  if (why != nullptr) *why = std::move(reason);
  return false;
}

// The message of an OpenAI-style {"error": {...}} object, or "" when there is none. Parts of
// a reply are quoted from its text, never re-serialised: dump() recurses once per nesting
// level, and a server's reply may nest arrays millions deep.
std::string ErrorMessage(const json& j, std::string_view text) {
  const auto e = j.find("error");
  if (e == j.end() || e->is_null()) return "";
  if (e->is_string()) return e->get<std::string>();
  if (e->is_object() && e->contains("message") && (*e)["message"].is_string()) {
    return (*e)["message"].get<std::string>();
  }
  return std::string(text);
}

}  // namespace

bool CheckKServeReply(std::string_view body, std::string* why) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Fail(why, "reply is not JSON: " + Excerpt(body));
  if (!j.is_object()) return Fail(why, "reply is not a JSON object: " + Excerpt(body));
  const auto outputs = j.find("outputs");
  if (outputs == j.end() || !outputs->is_array() || outputs->empty()) {
    return Fail(why, "reply has no \"outputs\" array: " + Excerpt(body));
  }
  for (const auto& o : *outputs) {
    if (!o.is_object() || !o.contains("name") || !o.contains("data")) {
      return Fail(why, "an output lacks \"name\" or \"data\": " + Excerpt(body));
    }
  }
  return true;
}

bool CheckOpenAiReply(std::string_view body, bool chat, std::string* why) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Fail(why, "reply is not JSON: " + Excerpt(body));
  if (!j.is_object()) return Fail(why, "reply is not a JSON object: " + Excerpt(body));
  if (const std::string error = ErrorMessage(j, body); !error.empty()) {
    return Fail(why, "reply is an error: " + Excerpt(error));
  }
  const auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) {
    return Fail(why, "reply has no \"choices\": " + Excerpt(body));
  }
  const json& first = (*choices)[0];
  const bool has = chat ? (first.is_object() && first.contains("message"))
                        : (first.is_object() && first.contains("text"));
  if (!has) {
    return Fail(why, fmt::format("first choice has no \"{}\": {}", chat ? "message" : "text",
                                 Excerpt(body)));
  }
  return true;
}

void SseStreamParser::Reset() {
  line_.clear();
  data_.clear();
  have_data_ = false;
  done_ = false;
  events_ = 0;
  error_.clear();
}

void SseStreamParser::OnEvent(std::string_view data, std::int64_t now_ns,
                              std::vector<std::int64_t>& times) {
  ++events_;
  if (done_) {
    error_ = "event after [DONE]";
    return;
  }
  if (data == "[DONE]") {
    done_ = true;
    return;
  }
  const json j = json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error_ = "event is not a JSON object: " + Excerpt(data);
    return;
  }
  if (const std::string error = ErrorMessage(j, data); !error.empty()) {
    error_ = "stream carried an error: " + Excerpt(error);
    return;
  }
  const auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array()) {
    error_ = "event has no \"choices\": " + Excerpt(data);
    return;
  }
  if (choices->empty()) return;  // e.g. a final usage-only chunk
  const json& c = (*choices)[0];
  const json* text = nullptr;
  if (chat_) {
    const auto delta = c.find("delta");
    if (delta != c.end() && delta->is_object()) {
      const auto content = delta->find("content");
      if (content != delta->end()) text = &*content;
    }
  } else {
    const auto t = c.find("text");
    if (t != c.end()) text = &*t;
  }
  if (text != nullptr && text->is_string() && !text->get_ref<const std::string&>().empty()) {
    times.push_back(now_ns);
  }
}

void SseStreamParser::Feed(std::string_view bytes, std::int64_t now_ns,
                           std::vector<std::int64_t>& times) {
  while (!bytes.empty() && error_.empty()) {
    const std::size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      line_.append(bytes);
      if (line_.size() > (1u << 20)) error_ = "an event line is longer than 1 MiB";
      return;
    }
    line_.append(bytes.substr(0, nl));
    bytes.remove_prefix(nl + 1);
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (line_.empty()) {  // end of an event
      if (have_data_) OnEvent(data_, now_ns, times);
      data_.clear();
      have_data_ = false;
    } else if (line_.front() != ':') {  // ':' starts a comment (keep-alive)
      const std::size_t colon = line_.find(':');
      const std::string_view field = std::string_view(line_).substr(0, colon);
      std::string_view value;
      if (colon != std::string::npos) {
        value = std::string_view(line_).substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      }
      if (field == "data") {
        if (have_data_) data_ += '\n';
        data_.append(value);
        have_data_ = true;
      } else if (field != "event" && field != "id" && field != "retry") {
        error_ = "not a server-sent-event line: " + Excerpt(line_);
      }
    }
    line_.clear();
  }
}

bool SseStreamParser::Finish(std::string* why) {
  // A last event without its blank line (the server closed right after it) still counts;
  // its time does not matter: only "[DONE]" is accepted there.
  if (error_.empty() && have_data_ && data_ == "[DONE]" && !done_) done_ = true;
  if (!error_.empty()) return Fail(why, error_);
  if (!done_) {
    return Fail(why, fmt::format("stream ended after {} events without \"data: [DONE]\"", events_));
  }
  return true;
}

}  // namespace joulebench::http
