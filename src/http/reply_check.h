// Checks of replies against their protocol: KServe v2 inference replies, OpenAI-compatible
// completions (whole, or streamed as server-sent events). A reply that fails a check is a
// failed query of kind "malformed", with the reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace joulebench::http {

// A JSON object with a non-empty "outputs" array whose items are objects with "name" and
// "data" (KServe v2 REST, "Inference Response JSON Object"). On failure `why` says what.
bool CheckKServeReply(std::string_view body, std::string* why);

// A JSON object with a non-empty "choices" array (completion: items with "text"; chat:
// items with "message"). An "error" object is a failure even with status 200.
bool CheckOpenAiReply(std::string_view body, bool chat, std::string* why);

// Incremental parser of a server-sent-event stream of OpenAI-compatible chunks
// ("data: {json}\n\n" ... "data: [DONE]\n\n"). Each chunk whose first choice carries
// non-empty text (completion: "text"; chat: "delta.content") counts as one output token
// arriving at the time of the Feed() call that completed it.
class SseStreamParser {
 public:
  explicit SseStreamParser(bool chat) : chat_(chat) {}
  void Reset();
  // Feeds bytes as they arrive at `now_ns`; appends token arrival times to `token_times_ns`.
  void Feed(std::string_view bytes, std::int64_t now_ns, std::vector<std::int64_t>& token_times_ns);
  // After the last byte: true when the stream was complete ("[DONE]" seen) and well-formed.
  bool Finish(std::string* why);
  bool malformed() const { return !error_.empty(); }

 private:
  void OnEvent(std::string_view data, std::int64_t now_ns, std::vector<std::int64_t>& times);

  bool chat_;
  std::string line_;  // a partial line
  std::string data_;  // data lines of the event being read
  bool have_data_ = false;
  bool done_ = false;
  std::uint64_t events_ = 0;
  std::string error_;
};

}  // namespace joulebench::http
