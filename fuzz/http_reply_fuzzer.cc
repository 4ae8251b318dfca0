// Replies of HTTP servers under test (`loadgen --sut http:...`): KServe v2 and OpenAI JSON
// bodies and OpenAI server-sent-event streams. The reason a reply is refused goes into the
// run's warnings (stored as JSON), so it must be valid UTF-8; a stream must give the same
// tokens and verdict however the network cuts it into pieces.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "http/reply_check.h"

namespace {

using joulebench::fuzz::Check;
using joulebench::fuzz::CheckStorable;
namespace http = joulebench::http;

struct StreamOutcome {
  std::vector<std::int64_t> tokens;
  bool ok = false;
  std::string why;
};

StreamOutcome Stream(std::string_view body, bool chat, std::size_t piece) {
  http::SseStreamParser parser(chat);
  StreamOutcome out;
  std::int64_t now = 0;
  for (std::size_t at = 0; at < body.size(); at += piece) {
    parser.Feed(body.substr(at, piece), ++now, out.tokens);
  }
  out.ok = parser.Finish(&out.why);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks how the stream is cut; the rest is the reply.
  const std::size_t piece = 1 + data[0] % 16;
  const std::string_view body = joulebench::fuzz::AsText(data + 1, size - 1);
  std::string why;
  if (!http::CheckKServeReply(body, &why)) CheckStorable(why, "KServe reason");
  for (const bool chat : {false, true}) {
    why.clear();
    if (!http::CheckOpenAiReply(body, chat, &why)) CheckStorable(why, "OpenAI reason");
    const StreamOutcome whole = Stream(body, chat, body.size() + 1);
    const StreamOutcome cut = Stream(body, chat, piece);
    if (!whole.ok) CheckStorable(whole.why, "stream reason");
    if (!cut.ok) CheckStorable(cut.why, "stream reason");
    Check(whole.ok == cut.ok, "stream verdict depends on how it was cut");
    Check(whole.tokens.size() == cut.tokens.size(), "token count depends on how it was cut");
  }
  return 0;
}
