// The HTTP SUT's spec, request bodies and reply checks, without a server.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/reply_check.h"
#include "joulebench/error.h"
#include "joulebench/http/http_sut.h"
#include "support/temp_dir.h"

namespace joulebench::http {
namespace {

using nlohmann::json;

std::string Message(const std::string& spec) {
  try {
    ParseHttpSutSpec(spec);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(HttpSutSpecTest, ParsesEveryKey) {
  const HttpSutSpec s = ParseHttpSutSpec(
      "http:url=http://127.0.0.1:8000,protocol=openai-chat,model=llama,http=2,connections=4,"
      "streams=16,connect_timeout=2s,timeout=500ms,header=Authorization: Bearer x,insecure=1,"
      "stream=0,max_tokens=64,samples=10,seq_len=100,seed=7");
  EXPECT_EQ(s.sut.url, "http://127.0.0.1:8000");
  EXPECT_EQ(s.sut.protocol, Protocol::kOpenAiChat);
  EXPECT_EQ(s.sut.model, "llama");
  EXPECT_EQ(s.sut.http_version, HttpVersion::k2);
  EXPECT_EQ(s.sut.max_connections, 4);
  EXPECT_EQ(s.sut.max_streams_per_connection, 16);
  EXPECT_EQ(s.sut.connect_timeout, std::chrono::seconds(2));
  EXPECT_EQ(s.sut.timeout, std::chrono::milliseconds(500));
  ASSERT_EQ(s.sut.headers.size(), 1u);
  EXPECT_EQ(s.sut.headers[0], "Authorization: Bearer x");
  EXPECT_FALSE(s.sut.verify_tls);
  EXPECT_FALSE(s.sut.stream);
  EXPECT_EQ(s.sut.max_tokens, 64);
  EXPECT_EQ(s.payloads.sample_count, 10u);
  EXPECT_EQ(s.payloads.seq_len, 100);
  EXPECT_EQ(s.payloads.seed, 7u);
}

TEST(HttpSutSpecTest, ABuiltInModelSetsTheDocumentsInputs) {
  const HttpSutSpec layoutlm = ParseHttpSutSpec("http:url=http://h:1,model=layoutlm-tiny");
  EXPECT_TRUE(layoutlm.payloads.with_bbox);
  EXPECT_EQ(layoutlm.payloads.vocab_size, 512);
  const HttpSutSpec bert = ParseHttpSutSpec("http:url=http://h:1,model=bert-base");
  EXPECT_FALSE(bert.payloads.with_bbox);
  EXPECT_EQ(bert.payloads.vocab_size, 30522);
}

TEST(HttpSutSpecTest, BadSpecsSayWhatIsWrong) {
  EXPECT_NE(Message("http:protocol=kserve").find("url=... is required"), std::string::npos);
  EXPECT_NE(Message("http:url=ftp://x").find("must start with http://"), std::string::npos);
  EXPECT_NE(Message("http:url=http://x,protocol=grpc").find("protocol must be"), std::string::npos);
  EXPECT_NE(Message("http:url=http://x,conections=4").find("unknown key 'conections'"),
            std::string::npos);
  EXPECT_NE(Message("http:url=http://x,connections=0").find("connections must be"),
            std::string::npos);
  EXPECT_NE(Message("http:url=http://x,timeout=5").find("timeout"), std::string::npos);
  EXPECT_NE(Message("http:url=http://x,body=/tmp/b").find("protocol=raw"), std::string::npos);
}

TEST(HttpSutSpecTest, AHeaderOrUrlWithALineBreakIsRefused) {
  // Found by fuzzing: a header with "\r\n" would have split the request libcurl sends, and a
  // URL with a space or a control character only failed later, at every request.
  EXPECT_NE(Message("http:url=http://h,header=X-A: 1\r\nX-B: 2").find("one line"),
            std::string::npos);
  EXPECT_NE(Message("http:url=http://h,header=X-A: 1\nX-B: 2").find("one line"), std::string::npos);
  EXPECT_NE(Message("http:url=http://h/a b").find("spaces or control"), std::string::npos);
  EXPECT_NE(Message(std::string("http:url=http://h/a\0b", 21)).find("spaces or control"),
            std::string::npos);
  EXPECT_EQ(Message("http:url=http://h/a%20b,header=X-A: a b\tc"), "");
}

TEST(HttpSutSpecTest, EscapedCommasStayInTheValue) {
  const HttpSutSpec s = ParseHttpSutSpec("http:url=http://h:1/a?x=1%2C2,protocol=raw");
  EXPECT_EQ(s.sut.url, "http://h:1/a?x=1,2");
}

TEST(RequestPayloadsTest, KServeBodiesCarryThePaddedDocument) {
  const HttpSutSpec s =
      ParseHttpSutSpec("http:url=http://h:1,model=layoutlm-tiny,samples=3,seq_len=20");
  const auto payloads = MakePayloads(s);
  ASSERT_EQ(payloads->TotalSampleCount(), 3u);
  const json j = json::parse(payloads->Body(1));
  ASSERT_EQ(j["inputs"].size(), 4u);
  const json& ids = j["inputs"][0];
  EXPECT_EQ(ids["name"], "input_ids");
  EXPECT_EQ(ids["datatype"], "INT64");
  EXPECT_EQ(ids["shape"], json({1, 20}));
  ASSERT_EQ(ids["data"].size(), 20u);
  EXPECT_EQ(ids["data"][0], 101);  // [CLS]
  const json& bbox = j["inputs"][3];
  EXPECT_EQ(bbox["name"], "bbox");
  EXPECT_EQ(bbox["shape"], json({1, 20, 4}));
  EXPECT_EQ(bbox["data"].size(), 80u);
  // Different samples are different documents.
  EXPECT_NE(payloads->Body(0), payloads->Body(1));
}

TEST(RequestPayloadsTest, OpenAiBodiesAskForAStreamOfTokens) {
  const auto completions = MakePayloads(ParseHttpSutSpec(
      "http:url=http://h:1,protocol=openai-completions,model=m,samples=2,max_tokens=8"));
  const json c = json::parse(completions->Body(0));
  EXPECT_EQ(c["model"], "m");
  EXPECT_EQ(c["max_tokens"], 8);
  EXPECT_EQ(c["stream"], true);
  ASSERT_TRUE(c["prompt"].is_array());
  EXPECT_GT(c["prompt"].size(), 0u);
  const auto chat = MakePayloads(
      ParseHttpSutSpec("http:url=http://h:1,protocol=openai-chat,model=m,samples=2,stream=0"));
  const json m = json::parse(chat->Body(1));
  EXPECT_EQ(m["stream"], false);
  EXPECT_EQ(m["messages"][0]["role"], "user");
  EXPECT_FALSE(m["messages"][0]["content"].get<std::string>().empty());
}

TEST(RequestPayloadsTest, ASamplesFileGivesOneBodyPerLine) {
  testing::TempDir dir;
  const auto prompts = dir.Write("prompts.txt", "Hello there\n\nWhat is LayoutLM?\n");
  const auto p =
      MakePayloads(ParseHttpSutSpec("http:url=http://h:1,protocol=openai-completions,"
                                    "model=m,samples_file=" +
                                    prompts.string()));
  ASSERT_EQ(p->TotalSampleCount(), 2u);  // the empty line is skipped
  EXPECT_EQ(json::parse(p->Body(1))["prompt"], "What is LayoutLM?");
  const auto bad = dir.Write("bad.jsonl", "{\"inputs\": []}\nnot json\n");
  try {
    MakePayloads(ParseHttpSutSpec("http:url=http://h:1,samples_file=" + bad.string()));
    FAIL() << "a line that is not JSON must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(RequestPayloadsTest, RawWithoutABodyIsAGet) {
  const auto p = MakePayloads(ParseHttpSutSpec("http:url=http://h:1/health,protocol=raw"));
  ASSERT_EQ(p->TotalSampleCount(), 1u);
  EXPECT_TRUE(p->Body(0).empty());
}

TEST(ReplyCheckTest, KServeRepliesNeedOutputs) {
  std::string why;
  EXPECT_TRUE(CheckKServeReply(R"({"outputs":[{"name":"o","data":[1]}]})", &why));
  EXPECT_FALSE(CheckKServeReply(R"({"outputs":[]})", &why));
  EXPECT_NE(why.find("outputs"), std::string::npos);
  EXPECT_FALSE(CheckKServeReply("{oops", &why));
  EXPECT_NE(why.find("not JSON"), std::string::npos);
}

TEST(ReplyCheckTest, OpenAiErrorObjectsFailEvenWith200) {
  std::string why;
  EXPECT_TRUE(CheckOpenAiReply(R"({"choices":[{"text":"hi"}]})", false, &why));
  EXPECT_FALSE(CheckOpenAiReply(R"({"error":{"message":"model not found"}})", false, &why));
  EXPECT_NE(why.find("model not found"), std::string::npos);
  EXPECT_FALSE(CheckOpenAiReply(R"({"choices":[{"text":"hi"}]})", true, &why));  // chat: message
}

TEST(ReplyCheckTest, ARepliesDeepNestingIsQuotedNotReserialised) {
  // The reasons quoted parts of the reply through json::dump(), which recurses once per
  // nesting level: a reply of a million nested arrays overflowed the load generator's stack.
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  std::string why;
  EXPECT_FALSE(CheckKServeReply(R"({"outputs":[)" + deep + "]}", &why));
  EXPECT_NE(why.find("lacks"), std::string::npos) << why;
  EXPECT_FALSE(CheckOpenAiReply(R"({"choices":[)" + deep + "]}", false, &why));
  EXPECT_NE(why.find("first choice has no"), std::string::npos) << why;
  EXPECT_FALSE(CheckOpenAiReply(R"({"error":)" + deep + "}", false, &why));
  EXPECT_NE(why.find("reply is an error: {\"error\":[[[["), std::string::npos) << why;
  EXPECT_FALSE(CheckOpenAiReply(R"({"error":"overloaded"})", false, &why));
  EXPECT_NE(why.find("reply is an error: overloaded"), std::string::npos) << why;
}

TEST(SseStreamParserTest, CountsTokensAcrossSplitReads) {
  SseStreamParser p(false);
  std::vector<std::int64_t> times;
  const std::string stream =
      "data: {\"choices\":[{\"text\":\"a\"}]}\n\n"
      ": keep-alive comment\n\n"
      "data: {\"choices\":[{\"text\":\"\"}]}\r\n\r\n"  // empty text: not a token
      "data: {\"choices\":[{\"text\":\"b\"}]}\n\n"
      "data: [DONE]\n\n";
  // Byte by byte, each byte at its own time: a token's time is when its event completed.
  for (std::size_t i = 0; i < stream.size(); ++i) {
    p.Feed(std::string_view(stream).substr(i, 1), static_cast<std::int64_t>(i), times);
  }
  std::string why;
  EXPECT_TRUE(p.Finish(&why)) << why;
  ASSERT_EQ(times.size(), 2u);
  EXPECT_EQ(times[0], static_cast<std::int64_t>(stream.find("\n\n")) + 1);
  EXPECT_GT(times[1], times[0]);
}

TEST(SseStreamParserTest, AStreamWithoutDoneIsIncomplete) {
  SseStreamParser p(true);
  std::vector<std::int64_t> times;
  p.Feed("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n", 5, times);
  EXPECT_EQ(times.size(), 1u);
  std::string why;
  EXPECT_FALSE(p.Finish(&why));
  EXPECT_NE(why.find("[DONE]"), std::string::npos);
  p.Reset();
  p.Feed("data: {broken\n\n", 6, times);
  EXPECT_TRUE(p.malformed());
  EXPECT_FALSE(p.Finish(&why));
  EXPECT_NE(why.find("not a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace joulebench::http
