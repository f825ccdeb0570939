// Fuzzes request-body parsing and the writer together: any body either fails with well-formed
// issues or yields a value whose JSON reads back to the very same JSON (parse -> write -> parse ->
// write is a fixed point). Sanitizers catch memory and UB bugs along the way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "serval/app/json.hpp"

namespace fz {

enum class Kind { kText, kImage, kAudio };

struct Span {
  std::uint32_t start = 0;
  std::int16_t delta = 0;
  std::optional<float> weight;
};

struct Message {
  std::string role;
  std::string content;
  std::optional<std::string> name;
  std::vector<std::string> tags;
};

struct Request {
  std::string model;
  std::vector<Message> messages;
  int top_k = 1;
  double temperature = 1.0;
  bool stream = false;
  std::optional<std::int64_t> seed;
  std::map<std::string, double> bias;
  std::unordered_map<std::string, std::vector<std::uint8_t>> tables;
  std::vector<std::vector<double>> matrix;
  std::optional<Kind> kind;
  std::vector<Span> spans;
  boost::json::value metadata;
  std::optional<std::vector<std::optional<bool>>> flags;
};

// Everything optional, so that mutated inputs often parse and the write/read path gets exercised.
struct Loose {
  std::optional<std::string> s;
  std::optional<std::int32_t> i;
  std::optional<std::uint8_t> u8;
  std::optional<float> f;
  std::optional<double> d;
  std::optional<bool> b;
  std::optional<Kind> k;
  std::vector<std::string> list;
  std::map<std::string, std::string> map;
  std::vector<Loose> children;
  boost::json::value any;
};

struct Strict {
  std::string key;
  std::optional<Request> inner;
};

}  // namespace fz

template <>
inline constexpr auto serval::enum_names<fz::Kind> = serval::enumerators(
    std::pair{fz::Kind::kText, "text"}, std::pair{fz::Kind::kImage, "image"}, std::pair{fz::Kind::kAudio, "audio"});

template <>
inline constexpr auto serval::schema<fz::Span> = serval::fields(
    serval::field("start", &fz::Span::start).le(1000000), serval::field("delta", &fz::Span::delta).optional(),
    serval::field("weight", &fz::Span::weight).ge(0).lt(1));

template <>
inline constexpr auto serval::schema<fz::Message> = serval::fields(
    serval::field("role", &fz::Message::role).pattern("^(system|user|assistant)$"),
    serval::field("content", &fz::Message::content).min_length(1).max_length(2000),
    serval::field("name", &fz::Message::name).pattern("^[A-Za-z0-9_-]{1,64}$"),
    serval::field("tags", &fz::Message::tags).max_length(8).optional());

template <>
inline constexpr auto serval::schema<fz::Request> = serval::fields(
    serval::field("model", &fz::Request::model).min_length(1).pattern("[a-z]"),
    serval::field("messages", &fz::Request::messages).min_length(1).max_length(16),
    serval::field("top_k", &fz::Request::top_k).ge(1).le(10).optional(),
    serval::field("temperature", &fz::Request::temperature).gt(0).le(2).optional(),
    serval::field("stream", &fz::Request::stream).optional(),
    serval::field("seed", &fz::Request::seed),
    serval::field("bias", &fz::Request::bias).max_length(4).optional(),
    serval::field("tables", &fz::Request::tables).optional(),
    serval::field("matrix", &fz::Request::matrix).optional(),
    serval::field("kind", &fz::Request::kind),
    serval::field("spans", &fz::Request::spans).optional(),
    serval::field("metadata", &fz::Request::metadata).optional(),
    serval::field("flags", &fz::Request::flags));

template <>
inline constexpr auto serval::schema<fz::Loose> = serval::fields(
    serval::field("s", &fz::Loose::s).max_length(64), serval::field("i", &fz::Loose::i).ge(-1000),
    serval::field("u8", &fz::Loose::u8), serval::field("f", &fz::Loose::f).gt(-1).lt(1),
    serval::field("d", &fz::Loose::d), serval::field("b", &fz::Loose::b), serval::field("k", &fz::Loose::k),
    serval::field("list", &fz::Loose::list).optional(), serval::field("map", &fz::Loose::map).optional(),
    serval::field("children", &fz::Loose::children).max_length(4).optional(),
    serval::field("any", &fz::Loose::any).optional());

template <>
inline constexpr auto serval::schema<fz::Strict> =
    serval::fields(serval::field("key", &fz::Strict::key).max_length(32), serval::field("inner", &fz::Strict::inner))
        .forbid_extra();

namespace {

template <class T>
void round_trip(std::string_view body) {
  T first{};
  serval::ValidationErrors errs;
  if (!serval::parse_json_body(body, first, errs)) {
    if (errs.empty()) std::abort();  // a failure always says why
    const std::string detail = errs.to_json();
    if (serval::parse_json_value(detail).as_object().at("detail").as_array().size() != errs.size()) std::abort();
    return;
  }
  if (!errs.empty()) std::abort();
  const std::string once = serval::to_json(first);
  T second{};
  if (!serval::parse_json_body(once, second, errs)) __builtin_trap();  // what we wrote must read back
  const std::string twice = serval::to_json(second);
  // Text equality, except that unordered_map may iterate in another order: then compare the DOMs.
  if (once != twice && serval::parse_json_value(once) != serval::parse_json_value(twice)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  round_trip<fz::Request>(body);
  round_trip<fz::Strict>(body);
  round_trip<fz::Loose>(body);
  round_trip<std::vector<fz::Span>>(body);
  round_trip<boost::json::value>(body);  // the writer on any DOM: escaping, numbers, nesting
  return 0;
}
