#include "serval/app/json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/json/parse.hpp>

namespace jt {

enum class Label { kPositive, kNegative, kUnnamed };
enum class Color { kRed, kGreen, kBlue };

struct Tag {
  std::string name;
};

struct ClassifyIn {
  std::string text;
  int top_k = 1;
  std::optional<std::string> lang;
  std::vector<Tag> tags;
  Label label = Label::kPositive;
};

struct AllTypes {
  bool b = false;
  std::int8_t i8 = 0;
  std::uint8_t u8 = 0;
  std::int16_t i16 = 0;
  std::uint16_t u16 = 0;
  std::int32_t i32 = 0;
  std::uint32_t u32 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  float f = 0;
  double d = 0;
  std::string s;
  std::optional<int> oi;
  std::vector<int> vi;
  std::vector<bool> vb;
  std::map<std::string, int> mi;
  std::unordered_map<std::string, Tag> mt;
  Color color = Color::kRed;
  boost::json::value any;
  std::optional<std::vector<Tag>> otags;
};

struct Limits {
  double ratio = 0.5;
  int count = 0;
  std::string code;
  std::vector<int> items;
  std::map<std::string, int> scores;
  std::string word;
};

struct Strict {
  int a = 0;
};

struct Node {
  std::string name;
  std::vector<Node> children;
};

struct Patterned {
  std::string contains_b;
  std::string repeated;
};

struct BadPattern {
  std::string s;
};

struct Escaped {
  int quote = 0;
};

struct Defaults {
  int a = 7;
  std::string s = "keep";
  std::optional<int> o = 5;
};

}  // namespace jt

template <>
inline constexpr auto serval::enum_names<jt::Label> =
    serval::enumerators(std::pair{jt::Label::kPositive, "POSITIVE"}, std::pair{jt::Label::kNegative, "NEGATIVE"});
template <>
inline constexpr auto serval::enum_names<jt::Color> = serval::enumerators(
    std::pair{jt::Color::kRed, "red"}, std::pair{jt::Color::kGreen, "green"}, std::pair{jt::Color::kBlue, "blue"});

template <>
inline constexpr auto serval::schema<jt::Tag> = serval::fields(serval::field("name", &jt::Tag::name).min_length(1));

template <>
inline constexpr auto serval::schema<jt::ClassifyIn> = serval::fields(
    serval::field("text", &jt::ClassifyIn::text).min_length(1).max_length(10000).doc("Text to classify"),
    serval::field("top_k", &jt::ClassifyIn::top_k).ge(1).le(10).optional(),
    serval::field("lang", &jt::ClassifyIn::lang).pattern("^[a-z]{2}$"),
    serval::field("tags", &jt::ClassifyIn::tags).max_length(5).optional(),
    serval::field("label", &jt::ClassifyIn::label).optional()).doc("A text to classify");

template <>
inline constexpr auto serval::schema<jt::AllTypes> = serval::fields(
    serval::field("b", &jt::AllTypes::b), serval::field("i8", &jt::AllTypes::i8),
    serval::field("u8", &jt::AllTypes::u8), serval::field("i16", &jt::AllTypes::i16),
    serval::field("u16", &jt::AllTypes::u16), serval::field("i32", &jt::AllTypes::i32),
    serval::field("u32", &jt::AllTypes::u32), serval::field("i64", &jt::AllTypes::i64),
    serval::field("u64", &jt::AllTypes::u64), serval::field("f", &jt::AllTypes::f), serval::field("d", &jt::AllTypes::d),
    serval::field("s", &jt::AllTypes::s), serval::field("oi", &jt::AllTypes::oi), serval::field("vi", &jt::AllTypes::vi),
    serval::field("vb", &jt::AllTypes::vb), serval::field("mi", &jt::AllTypes::mi),
    serval::field("mt", &jt::AllTypes::mt), serval::field("color", &jt::AllTypes::color),
    serval::field("any", &jt::AllTypes::any), serval::field("otags", &jt::AllTypes::otags));

template <>
inline constexpr auto serval::schema<jt::Limits> = serval::fields(
    serval::field("ratio", &jt::Limits::ratio).gt(0).lt(1).optional(),
    serval::field("count", &jt::Limits::count).ge(-5).le(5).optional(),
    serval::field("code", &jt::Limits::code).min_length(2).max_length(3).optional(),
    serval::field("items", &jt::Limits::items).min_length(1).max_length(2).optional(),
    serval::field("scores", &jt::Limits::scores).min_length(2).max_length(3).optional(),
    serval::field("word", &jt::Limits::word).max_length(1).optional());

template <>
inline constexpr auto serval::schema<jt::Strict> = serval::fields(serval::field("a", &jt::Strict::a)).forbid_extra();

template <>
inline constexpr auto serval::schema<jt::Node> =
    serval::fields(serval::field("name", &jt::Node::name), serval::field("children", &jt::Node::children).optional());

template <>
inline constexpr auto serval::schema<jt::Patterned> =
    serval::fields(serval::field("contains_b", &jt::Patterned::contains_b).pattern("b").optional(),
                   serval::field("repeated", &jt::Patterned::repeated).pattern("^(ab)\\1$").optional());

template <>
inline constexpr auto serval::schema<jt::BadPattern> =
    serval::fields(serval::field("s", &jt::BadPattern::s).pattern("[a-").optional());

template <>
inline constexpr auto serval::schema<jt::Escaped> = serval::fields(serval::field("q\"u\\o\tte", &jt::Escaped::quote));

template <>
inline constexpr auto serval::schema<jt::Defaults> =
    serval::fields(serval::field("a", &jt::Defaults::a).optional(), serval::field("s", &jt::Defaults::s).optional(),
                   serval::field("o", &jt::Defaults::o));

namespace jt {
namespace {

template <class T>
std::string errors_of(std::string_view body) {
  T out{};
  serval::ValidationErrors errs;
  EXPECT_FALSE(serval::parse_json_body(body, out, errs)) << body;
  return errs.to_json();
}

template <class T>
T parse_ok(std::string_view body) {
  T out{};
  serval::ValidationErrors errs;
  EXPECT_TRUE(serval::parse_json_body(body, out, errs)) << body << " -> " << errs.to_json();
  return out;
}

// One error of type `type` at ["body", field], message `msg`: a compact check for type errors.
template <class T>
void expect_single(std::string_view body, std::string_view field, std::string_view type, std::string_view msg) {
  T out{};
  serval::ValidationErrors errs;
  ASSERT_FALSE(serval::parse_json_body(body, out, errs)) << body;
  ASSERT_EQ(errs.size(), 1u) << errs.to_json();
  const auto& issue = errs.issues()[0];
  EXPECT_EQ(issue.type, type) << body;
  EXPECT_EQ(issue.msg, msg) << body;
  ASSERT_EQ(issue.loc.size(), 2u);
  EXPECT_EQ(std::get<std::string>(issue.loc[0]), "body");
  EXPECT_EQ(std::get<std::string>(issue.loc[1]), field);
}

// ---- parsing: success paths ------------------------------------------------------------------

TEST(JsonParse, ReadsEveryType) {
  const auto v = parse_ok<AllTypes>(R"({
    "b": true, "i8": -128, "u8": 255, "i16": -32768, "u16": 65535, "i32": -2147483648, "u32": 4294967295,
    "i64": -9223372036854775808, "u64": 18446744073709551615, "f": 1.5, "d": -2.25e-3, "s": "h\u00e9\"llo",
    "oi": 42, "vi": [1, 2, 3], "vb": [true, false, true], "mi": {"a": 1, "b": 2},
    "mt": {"x": {"name": "X"}}, "color": "green", "any": {"k": [1, "two", null]}, "otags": [{"name": "t"}]})");
  EXPECT_TRUE(v.b);
  EXPECT_EQ(v.i8, -128);
  EXPECT_EQ(v.u8, 255);
  EXPECT_EQ(v.i16, -32768);
  EXPECT_EQ(v.u16, 65535);
  EXPECT_EQ(v.i32, std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(v.u32, 4294967295u);
  EXPECT_EQ(v.i64, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(v.u64, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(v.f, 1.5f);
  EXPECT_EQ(v.d, -2.25e-3);
  EXPECT_EQ(v.s, "h\xC3\xA9\"llo");
  EXPECT_EQ(v.oi, 42);
  EXPECT_EQ(v.vi, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(v.vb, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(v.mi, (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  ASSERT_EQ(v.mt.size(), 1u);
  EXPECT_EQ(v.mt.at("x").name, "X");
  EXPECT_EQ(v.color, Color::kGreen);
  EXPECT_EQ(v.any, boost::json::parse(R"({"k":[1,"two",null]})"));
  ASSERT_TRUE(v.otags.has_value());
  ASSERT_EQ(v.otags->size(), 1u);
  EXPECT_EQ((*v.otags)[0].name, "t");
}

TEST(JsonParse, ClassifyInHappyPath) {
  const auto v = parse_ok<ClassifyIn>(R"({"text":"hello","top_k":3,"lang":"en","tags":[{"name":"a"}],"label":"NEGATIVE"})");
  EXPECT_EQ(v.text, "hello");
  EXPECT_EQ(v.top_k, 3);
  EXPECT_EQ(v.lang, "en");
  ASSERT_EQ(v.tags.size(), 1u);
  EXPECT_EQ(v.tags[0].name, "a");
  EXPECT_EQ(v.label, Label::kNegative);
}

TEST(JsonParse, OmittedOptionalFieldsKeepDefaults) {
  const auto v = parse_ok<Defaults>("{}");
  EXPECT_EQ(v.a, 7);
  EXPECT_EQ(v.s, "keep");
  EXPECT_EQ(v.o, 5);  // std::optional members are not required; omission leaves them as they are
  const auto w = parse_ok<Defaults>(R"({"o": null, "a": 1})");
  EXPECT_EQ(w.a, 1);
  EXPECT_EQ(w.o, std::nullopt);  // null -> nullopt
}

TEST(JsonParse, IntegersAcceptIntegralFloats) {
  EXPECT_EQ(parse_ok<AllTypes>(R"({"b":true,"i8":0,"u8":0,"i16":0,"u16":0,"i32":3.0,"u32":0,"i64":-1e3,"u64":1e19,
    "f":0,"d":0,"s":"","vi":[],"vb":[],"mi":{},"mt":{},"color":"red","any":null})")
                .i32,
            3);
  const auto v = parse_ok<Limits>(R"({"count": 2.0, "ratio": 0.25})");
  EXPECT_EQ(v.count, 2);
  EXPECT_EQ(v.ratio, 0.25);
}

TEST(JsonParse, FloatsAcceptIntegers) {
  EXPECT_EQ(parse_ok<Limits>(R"({"ratio": 0.5})").ratio, 0.5);
  serval::ValidationErrors errs;
  std::vector<serval::LocItem> loc;
  double d = 0;
  EXPECT_TRUE(serval::from_json(boost::json::value(7), d, loc, errs));
  EXPECT_EQ(d, 7.0);
  EXPECT_TRUE(serval::from_json(boost::json::value(18446744073709551615ULL), d, loc, errs));
  EXPECT_EQ(d, 18446744073709551615.0);
  float f = 0;
  EXPECT_TRUE(serval::from_json(boost::json::value(-3), f, loc, errs));
  EXPECT_EQ(f, -3.0f);
}

TEST(JsonParse, DuplicateKeysKeepTheLast) {
  EXPECT_EQ(parse_ok<Tag>(R"({"name":"a","name":"b"})").name, "b");
}

TEST(JsonParse, UnknownFieldsAreIgnoredByDefault) {
  EXPECT_EQ(parse_ok<Tag>(R"({"name":"a","other":[1,2,{}]})").name, "a");
}

TEST(JsonParse, RecursiveStructs) {
  const auto n = parse_ok<Node>(R"({"name":"root","children":[{"name":"a","children":[{"name":"b"}]},{"name":"c"}]})");
  EXPECT_EQ(n.name, "root");
  ASSERT_EQ(n.children.size(), 2u);
  ASSERT_EQ(n.children[0].children.size(), 1u);
  EXPECT_EQ(n.children[0].children[0].name, "b");
  EXPECT_EQ(n.children[1].name, "c");
  EXPECT_EQ(serval::to_json(n),
            R"({"name":"root","children":[{"name":"a","children":[{"name":"b","children":[]}]},{"name":"c","children":[]}]})");
}

TEST(JsonParse, TopLevelArrayAndOptionalBodies) {
  const auto tags = parse_ok<std::vector<Tag>>(R"([{"name":"a"},{"name":"b"}])");
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[1].name, "b");

  std::optional<Tag> maybe = Tag{"x"};
  serval::ValidationErrors errs;
  EXPECT_TRUE(serval::parse_json_body("", maybe, errs));  // an optional body may be empty
  EXPECT_FALSE(maybe.has_value());
  EXPECT_TRUE(serval::parse_json_body("null", maybe, errs));
  EXPECT_FALSE(maybe.has_value());
  EXPECT_TRUE(serval::parse_json_body(R"({"name":"y"})", maybe, errs));
  ASSERT_TRUE(maybe.has_value());
  EXPECT_EQ(maybe->name, "y");
  EXPECT_TRUE(errs.empty());
}

// ---- parsing: the error body ---------------------------------------------------------------

TEST(JsonErrors, MissingRequiredFieldEchoesTheEnclosingObject) {
  EXPECT_EQ(errors_of<ClassifyIn>(R"({"top_k":2})"),
            R"({"detail":[{"type":"missing","loc":["body","text"],"msg":"Field required","input":{"top_k":2}}]})");
}

TEST(JsonErrors, CollectsEveryIssueWithFullLocations) {
  EXPECT_EQ(
      errors_of<ClassifyIn>(
          R"({"text":"","top_k":0,"lang":"EN","tags":[{"name":""},{},{"name":5}],"label":"X"})"),
      R"({"detail":[)"
      R"({"type":"string_too_short","loc":["body","text"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}},)"
      R"({"type":"greater_than_equal","loc":["body","top_k"],"msg":"Input should be greater than or equal to 1","input":0,"ctx":{"ge":1}},)"
      R"({"type":"string_pattern_mismatch","loc":["body","lang"],"msg":"String should match pattern '^[a-z]{2}$'","input":"EN","ctx":{"pattern":"^[a-z]{2}$"}},)"
      R"({"type":"string_too_short","loc":["body","tags",0,"name"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}},)"
      R"({"type":"missing","loc":["body","tags",1,"name"],"msg":"Field required","input":{}},)"
      R"({"type":"string_type","loc":["body","tags",2,"name"],"msg":"Input should be a valid string","input":5},)"
      R"({"type":"enum","loc":["body","label"],"msg":"Input should be 'POSITIVE' or 'NEGATIVE'","input":"X","ctx":{"expected":"'POSITIVE' or 'NEGATIVE'"}}]})");
}

TEST(JsonErrors, LocationsThroughMapsAndOptionals) {
  EXPECT_EQ(
      errors_of<AllTypes>(R"({"b":true,"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,"f":0,"d":0,
        "s":"","vi":[1,"x"],"vb":[],"mi":{"k":true},"mt":{"t":{"name":""}},"color":"red","any":null,
        "otags":[{"name":"ok"},{"name":[]}]})"),
      R"({"detail":[)"
      R"({"type":"int_type","loc":["body","vi",1],"msg":"Input should be a valid integer","input":"x"},)"
      R"({"type":"int_type","loc":["body","mi","k"],"msg":"Input should be a valid integer","input":true},)"
      R"({"type":"string_too_short","loc":["body","mt","t","name"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}},)"
      R"({"type":"string_type","loc":["body","otags",1,"name"],"msg":"Input should be a valid string","input":[]}]})");
}

TEST(JsonErrors, TypeErrors) {
  expect_single<Tag>(R"({"name":1})", "name", "string_type", "Input should be a valid string");
  expect_single<Tag>(R"({"name":null})", "name", "string_type", "Input should be a valid string");
  expect_single<Strict>(R"({"a":"1"})", "a", "int_type", "Input should be a valid integer");
  expect_single<Strict>(R"({"a":true})", "a", "int_type", "Input should be a valid integer");
  expect_single<Strict>(R"({"a":1.5})", "a", "int_from_float",
                        "Input should be a valid integer, got a number with a fractional part");
  expect_single<Strict>(R"({"a":1e400})", "a", "finite_number", "Input should be a finite number");
  expect_single<Limits>(R"({"ratio":"0.5"})", "ratio", "float_type", "Input should be a valid number");
  expect_single<Limits>(R"({"ratio":false})", "ratio", "float_type", "Input should be a valid number");
  expect_single<Limits>(R"({"ratio":-1e999})", "ratio", "finite_number", "Input should be a finite number");
  expect_single<Limits>(R"({"items":{}})", "items", "list_type", "Input should be a valid list");
  expect_single<Limits>(R"({"scores":[]})", "scores", "dict_type", "Input should be a valid dictionary");
  expect_single<ClassifyIn>(R"({"text":"a","label":1})", "label", "enum", "Input should be 'POSITIVE' or 'NEGATIVE'");

  serval::ValidationErrors errs;
  AllTypes all;
  EXPECT_FALSE(serval::parse_json_body(R"({"b":1})", all, errs));
  EXPECT_EQ(errs.issues()[0].type, "bool_type");
  EXPECT_EQ(errs.issues()[0].msg, "Input should be a valid boolean");

  ClassifyIn in;
  errs.clear();
  EXPECT_FALSE(serval::parse_json_body(R"({"text":"a","tags":[1]})", in, errs));
  EXPECT_EQ(errs.to_json(),
            R"({"detail":[{"type":"model_attributes_type","loc":["body","tags",0],"msg":"Input should be a valid dictionary or object to extract fields from","input":1}]})");

  Tag tag;
  errs.clear();
  EXPECT_FALSE(serval::parse_json_body("[]", tag, errs));
  EXPECT_EQ(errs.to_json(),
            R"({"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[]}]})");
}

TEST(JsonErrors, EnumMessageListsEveryName) {
  AllTypes all;
  serval::ValidationErrors errs;
  std::vector<serval::LocItem> loc{std::string("x")};
  Color c = Color::kRed;
  EXPECT_FALSE(serval::from_json(boost::json::value("purple"), c, loc, errs));
  EXPECT_EQ(errs.to_json(),
            R"({"detail":[{"type":"enum","loc":["x"],"msg":"Input should be 'red', 'green' or 'blue'","input":"purple","ctx":{"expected":"'red', 'green' or 'blue'"}}]})");
  (void)all;
}

TEST(JsonErrors, IntegersOutsideTheirTypeNameTheBound) {
  const auto range_error = [](std::string_view body) {
    AllTypes v;
    serval::ValidationErrors errs;
    EXPECT_FALSE(serval::parse_json_body(body, v, errs));
    EXPECT_EQ(errs.size(), 1u) << errs.to_json();
    return errs.issues().empty() ? std::string() : errs.issues()[0].type + " " + errs.issues()[0].msg + " " +
                                                       serval::to_json(boost::json::value(errs.issues()[0].ctx));
  };
  const std::string base = R"("b":true,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,"f":0,"d":0,"s":"",)"
                           R"("vi":[],"vb":[],"mi":{},"mt":{},"color":"red","any":null)";
  EXPECT_EQ(range_error("{" + base + R"(,"i8":128})"),
            R"(less_than_equal Input should be less than or equal to 127 {"le":127})");
  EXPECT_EQ(range_error("{" + base + R"(,"i8":-129})"),
            R"(greater_than_equal Input should be greater than or equal to -128 {"ge":-128})");
  EXPECT_EQ(range_error(R"({"b":true,"i8":0,"u8":-1,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,"f":0,"d":0,"s":"",)"
                        R"("vi":[],"vb":[],"mi":{},"mt":{},"color":"red","any":null})"),
            R"(greater_than_equal Input should be greater than or equal to 0 {"ge":0})");
  EXPECT_EQ(range_error(R"({"b":true,"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":1e20,"f":0,"d":0,"s":"",)"
                        R"("vi":[],"vb":[],"mi":{},"mt":{},"color":"red","any":null})"),
            R"(less_than_equal Input should be less than or equal to 18446744073709551615 {"le":18446744073709551615})");
  EXPECT_EQ(range_error(R"({"b":true,"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":9223372036854775808,"u64":0,)"
                        R"("f":0,"d":0,"s":"","vi":[],"vb":[],"mi":{},"mt":{},"color":"red","any":null})"),
            R"(less_than_equal Input should be less than or equal to 9223372036854775807 {"le":9223372036854775807})");
  EXPECT_EQ(range_error(R"({"b":true,"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":-1e19,"u64":0,)"
                        R"("f":0,"d":0,"s":"","vi":[],"vb":[],"mi":{},"mt":{},"color":"red","any":null})"),
            R"(greater_than_equal Input should be greater than or equal to -9223372036854775808 {"ge":-9223372036854775808})");
  EXPECT_EQ(range_error(R"({"b":true,"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,"f":1e39,"d":0,)"
                        R"("s":"","vi":[],"vb":[],"mi":{},"mt":{},"color":"red","any":null})"),
            R"(finite_number Input should be a finite number {})");
}

TEST(JsonErrors, RuleMessagesMatchPydantic) {
  struct Case {
    const char* body;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"ratio":0})",
       R"({"type":"greater_than","loc":["body","ratio"],"msg":"Input should be greater than 0","input":0,"ctx":{"gt":0}})"},
      {R"({"ratio":1.0})",
       R"({"type":"less_than","loc":["body","ratio"],"msg":"Input should be less than 1","input":1.0,"ctx":{"lt":1}})"},
      {R"({"count":-6})",
       R"({"type":"greater_than_equal","loc":["body","count"],"msg":"Input should be greater than or equal to -5","input":-6,"ctx":{"ge":-5}})"},
      {R"({"count":6})",
       R"({"type":"less_than_equal","loc":["body","count"],"msg":"Input should be less than or equal to 5","input":6,"ctx":{"le":5}})"},
      {R"({"code":"a"})",
       R"({"type":"string_too_short","loc":["body","code"],"msg":"String should have at least 2 characters","input":"a","ctx":{"min_length":2}})"},
      {R"({"code":"abcd"})",
       R"({"type":"string_too_long","loc":["body","code"],"msg":"String should have at most 3 characters","input":"abcd","ctx":{"max_length":3}})"},
      {R"({"word":"ab"})",
       R"({"type":"string_too_long","loc":["body","word"],"msg":"String should have at most 1 character","input":"ab","ctx":{"max_length":1}})"},
      {R"({"items":[]})",
       R"({"type":"too_short","loc":["body","items"],"msg":"List should have at least 1 item after validation, not 0","input":[],"ctx":{"field_type":"List","min_length":1,"actual_length":0}})"},
      {R"({"items":[1,2,3]})",
       R"({"type":"too_long","loc":["body","items"],"msg":"List should have at most 2 items after validation, not 3","input":[1,2,3],"ctx":{"field_type":"List","max_length":2,"actual_length":3}})"},
      {R"({"scores":{"a":1}})",
       R"({"type":"too_short","loc":["body","scores"],"msg":"Dictionary should have at least 2 items after validation, not 1","input":{"a":1},"ctx":{"field_type":"Dictionary","min_length":2,"actual_length":1}})"},
      {R"({"scores":{"a":1,"b":2,"c":3,"d":4}})",
       R"({"type":"too_long","loc":["body","scores"],"msg":"Dictionary should have at most 3 items after validation, not 4","input":{"a":1,"b":2,"c":3,"d":4},"ctx":{"field_type":"Dictionary","max_length":3,"actual_length":4}})"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(errors_of<Limits>(c.body), std::string(R"({"detail":[)") + c.expected + "]}") << c.body;
  }
}

TEST(JsonErrors, FractionalLimitsPrintAsDeclared) {
  double d = 0;
  serval::ValidationErrors errs;
  std::vector<serval::LocItem> loc{std::string("q")};
  EXPECT_FALSE(serval::from_json(boost::json::value(0.1), d, loc, errs, serval::rules().ge(0.25)));
  EXPECT_EQ(errs.to_json(),
            R"({"detail":[{"type":"greater_than_equal","loc":["q"],"msg":"Input should be greater than or equal to 0.25","input":0.1,"ctx":{"ge":0.25}}]})");
}

TEST(JsonErrors, StringLengthCountsCodePoints) {
  std::vector<serval::LocItem> loc;
  serval::ValidationErrors errs;
  std::string s;
  const auto len = serval::rules().min_length(3).max_length(3);
  EXPECT_TRUE(serval::from_json(boost::json::value("h\xC3\xA9y"), s, loc, errs, len));          // 4 bytes
  EXPECT_TRUE(serval::from_json(boost::json::value("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"), s, loc, errs, len));  // 9 bytes
  EXPECT_TRUE(serval::from_json(boost::json::value("a\xF0\x9F\x98\x80z"), s, loc, errs, len));   // emoji: 1 code point
  EXPECT_TRUE(errs.empty());
  EXPECT_FALSE(serval::from_json(boost::json::value("\xF0\x9F\x98\x80\xF0\x9F\x98\x80"), s, loc, errs, len));
  EXPECT_EQ(errs.issues()[0].type, "string_too_short");
}

TEST(JsonErrors, PatternsAreSearchedNotMatched) {
  auto v = parse_ok<Patterned>(R"({"contains_b":"abc","repeated":"abab"})");
  EXPECT_EQ(v.contains_b, "abc");
  EXPECT_EQ(errors_of<Patterned>(R"({"contains_b":"xyz"})"),
            R"({"detail":[{"type":"string_pattern_mismatch","loc":["body","contains_b"],"msg":"String should match pattern 'b'","input":"xyz","ctx":{"pattern":"b"}}]})");
  // Back-references run on the backtracking executor.
  EXPECT_EQ(errors_of<Patterned>(R"({"repeated":"abba"})").find("string_pattern_mismatch") != std::string::npos, true);
}

TEST(JsonErrors, PatternInputsAreBounded) {
  std::string s;
  std::vector<serval::LocItem> loc;
  serval::ValidationErrors errs;
  const auto r = serval::rules().pattern("^a+$");
  EXPECT_TRUE(serval::from_json(boost::json::value(std::string(serval::kMaxPatternInput, 'a')), s, loc, errs, r));
  EXPECT_TRUE(errs.empty());
  EXPECT_FALSE(serval::from_json(boost::json::value(std::string(serval::kMaxPatternInput + 1, 'a')), s, loc, errs, r));
  EXPECT_EQ(errs.issues()[0].type, "string_pattern_mismatch");
  EXPECT_TRUE(errs.issues()[0].input.is_null());  // over kMaxEchoBytes: not echoed
  // A long input on the linear executor does not recurse: 64 KiB of 'a' against an unanchored pattern.
  errs.clear();
  EXPECT_FALSE(serval::from_json(boost::json::value(std::string(serval::kMaxPatternInput, 'a')), s, loc, errs,
                                 serval::rules().pattern("(a|aa)+b")));
  // Back-reference patterns: a shorter bound.
  errs.clear();
  const auto backref = serval::rules().pattern("(a)\\1");
  EXPECT_TRUE(serval::from_json(boost::json::value(std::string(serval::kMaxBacktrackingPatternInput, 'a')), s, loc,
                                errs, backref));
  EXPECT_FALSE(serval::from_json(boost::json::value(std::string(serval::kMaxBacktrackingPatternInput + 1, 'a')), s,
                                 loc, errs, backref));
}

TEST(JsonErrors, PatternsMatchUtf8Bytes) {
  std::string s;
  std::vector<serval::LocItem> loc;
  serval::ValidationErrors errs;
  EXPECT_TRUE(serval::from_json(boost::json::value("caf\xC3\xA9\nbar"), s, loc, errs, serval::rules().pattern("bar$")));
  EXPECT_TRUE(serval::from_json(boost::json::value("\xC3\xA9"), s, loc, errs, serval::rules().pattern("^..$")));
  EXPECT_FALSE(serval::from_json(boost::json::value("xa"), s, loc, errs, serval::rules().pattern("^a")));
  EXPECT_EQ(errs.size(), 1u);
}

TEST(JsonErrors, InvalidPatternsFailAtStartUp) {
  EXPECT_NO_THROW(serval::validate_schema<ClassifyIn>());
  EXPECT_NO_THROW(serval::validate_schema<Patterned>());
  try {
    serval::validate_schema<std::vector<BadPattern>>();
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("field 's'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[a-"), std::string::npos) << e.what();
  }
}

TEST(JsonErrors, ExtraFieldsForbidden) {
  EXPECT_EQ(parse_ok<Strict>(R"({"a":1})").a, 1);
  EXPECT_EQ(errors_of<Strict>(R"({"a":1,"b":[2],"c":null})"),
            R"({"detail":[{"type":"extra_forbidden","loc":["body","b"],"msg":"Extra inputs are not permitted","input":[2]},)"
            R"({"type":"extra_forbidden","loc":["body","c"],"msg":"Extra inputs are not permitted","input":null}]})");
}

TEST(JsonErrors, InvalidJsonIsFastApisJsonInvalid) {
  EXPECT_EQ(errors_of<Tag>(R"({"name":"a",})"),
            R"({"detail":[{"type":"json_invalid","loc":["body",12],"msg":"JSON decode error","input":{},"ctx":{"error":"syntax error"}}]})");
  EXPECT_EQ(errors_of<Tag>(R"({"name":"a"} x)"),
            R"({"detail":[{"type":"json_invalid","loc":["body",13],"msg":"JSON decode error","input":{},"ctx":{"error":"extra data"}}]})");
  EXPECT_EQ(errors_of<Tag>(R"({"name":)"),
            R"({"detail":[{"type":"json_invalid","loc":["body",8],"msg":"JSON decode error","input":{},"ctx":{"error":"incomplete JSON"}}]})");
  EXPECT_EQ(errors_of<Tag>("  "),
            R"({"detail":[{"type":"json_invalid","loc":["body",2],"msg":"JSON decode error","input":{},"ctx":{"error":"incomplete JSON"}}]})");
  EXPECT_EQ(errors_of<Tag>("{\"name\":\"\xFF\"}").find("json_invalid") != std::string::npos, true);  // invalid UTF-8
}

TEST(JsonErrors, EmptyBodyIsMissing) {
  EXPECT_EQ(errors_of<Tag>(""), R"({"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]})");
}

TEST(JsonErrors, NestingDepthIsCapped) {
  const auto nested = [](std::size_t depth) {
    return R"({"b":true,"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,"f":0,"d":0,"s":"","vi":[],)"
           R"("vb":[],"mi":{},"mt":{},"color":"red","any":)" +
           std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  // The outer object is one level, so "any" may hold kMaxJsonDepth - 1 arrays.
  const auto ok = parse_ok<AllTypes>(nested(serval::kMaxJsonDepth - 1));
  EXPECT_TRUE(ok.any.is_array());
  const std::string deep = errors_of<AllTypes>(nested(serval::kMaxJsonDepth));
  EXPECT_NE(deep.find(R"("type":"json_invalid")"), std::string::npos) << deep;
  EXPECT_NE(deep.find(R"("error":"too deep")"), std::string::npos) << deep;
  // Hostile depth does not recurse: a million brackets are rejected at the cap.
  EXPECT_NE(errors_of<AllTypes>(std::string(1000000, '[')).find("too deep"), std::string::npos);
}

TEST(JsonErrors, IssueCountAndEchoAreBounded) {
  std::string body = "[";
  for (int i = 0; i < 1000; ++i) body += i ? ",1" : "1";
  body += "]";
  std::vector<Tag> tags;
  serval::ValidationErrors errs;
  EXPECT_FALSE(serval::parse_json_body(body, tags, errs));
  EXPECT_EQ(errs.size(), serval::ValidationErrors::kMaxIssues);
  EXPECT_EQ(errs.added(), serval::ValidationErrors::kMaxIssues);  // parsing stops once the list is full
  EXPECT_TRUE(errs.full());
  errs.add(serval::ValidationIssue{});  // counted, not kept
  EXPECT_EQ(errs.size(), serval::ValidationErrors::kMaxIssues);
  EXPECT_EQ(errs.dropped(), 1u);

  // A huge enclosing object is not copied into every "missing" issue.
  ClassifyIn in;
  errs.clear();
  const std::string big = R"({"junk":")" + std::string(serval::ValidationErrors::kMaxEchoBytes, 'x') + R"("})";
  EXPECT_FALSE(serval::parse_json_body(big, in, errs));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs.issues()[0].type, "missing");
  EXPECT_TRUE(errs.issues()[0].input.is_null());
}

TEST(JsonErrors, FromJsonUsesTheCallersLocation) {
  std::vector<serval::LocItem> loc{std::string("query"), std::string("filter")};
  Tag t;
  serval::ValidationErrors errs;
  EXPECT_FALSE(serval::from_json(boost::json::parse(R"({"name":""})"), t, loc, errs));
  EXPECT_EQ(errs.to_json(),
            R"({"detail":[{"type":"string_too_short","loc":["query","filter","name"],"msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}}]})");
  EXPECT_EQ(loc.size(), 2u);
}

TEST(JsonErrors, ErrorsSurviveTheRequestBuffer) {
  // Issues copy their input out of the parser's stack buffer; reading them afterwards is safe.
  serval::ValidationErrors errs;
  {
    ClassifyIn in;
    EXPECT_FALSE(serval::parse_json_body(R"({"text":{"deep":[1,2,{"x":"y"}]}})", in, errs));
  }
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs.issues()[0].input, boost::json::parse(R"({"deep":[1,2,{"x":"y"}]})"));
  EXPECT_EQ(errs.issues()[0].input.storage(), boost::json::storage_ptr());
}

TEST(JsonErrors, FloatRulesApplyToTheStoredValue) {
  // 0.99999999999 is below lt(1) as a double but is stored as 1.0f, which is not.
  float f = 0;
  std::vector<serval::LocItem> loc;
  serval::ValidationErrors errs;
  EXPECT_FALSE(serval::from_json(boost::json::value(0.99999999999), f, loc, errs, serval::rules().lt(1)));
  EXPECT_EQ(errs.issues().at(0).type, "less_than");
  EXPECT_TRUE(serval::from_json(boost::json::value(0.999), f, loc, errs, serval::rules().lt(1)));
  EXPECT_EQ(errs.size(), 1u);
}

TEST(JsonErrors, PatternCacheIsThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 200; ++i) {
        std::string s;
        std::vector<serval::LocItem> loc;
        serval::ValidationErrors errs;
        const std::string pattern = "^p" + std::to_string(i % 20) + "$";
        serval::Rules r = serval::rules().pattern(pattern);
        const bool ok = serval::from_json(boost::json::value("p" + std::to_string(i % 20)), s, loc, errs, r);
        const bool bad = serval::from_json(boost::json::value("q"), s, loc, errs, r);
        if (!ok || bad) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, (std::vector<int>{0, 0, 0, 0}));
}

// ---- declarations ---------------------------------------------------------------------------

template <serval::FixedText Name, serval::Rules R>
struct ParamLike {
  static constexpr std::string_view kName = Name.view();
  static constexpr serval::Rules kRules = R;
};

TEST(Declarations, RulesAreStructuralTemplateArguments) {
  using TopK = ParamLike<"top_k", serval::rules().ge(1).le(10).doc("How many")>;
  static_assert(TopK::kName == "top_k");
  static_assert(TopK::kRules.has_ge && TopK::kRules.ge_value == 1 && TopK::kRules.le_value == 10);
  static_assert(TopK::kRules.description.view() == "How many");
  static_assert(!std::is_same_v<TopK, ParamLike<"top_k", serval::rules().ge(1).le(11).doc("How many")>>);
  static_assert(std::is_same_v<TopK, ParamLike<"top_k", serval::rules().ge(1).le(10).doc("How many")>>);
  int v = 0;
  std::vector<serval::LocItem> loc{std::string("query"), std::string(TopK::kName)};
  serval::ValidationErrors errs;
  EXPECT_FALSE(serval::from_text("11", v, TopK::kRules, loc, errs));
  EXPECT_EQ(errs.issues().at(0).msg, "Input should be less than or equal to 10");
}

TEST(Declarations, BuildersAndConcepts) {
  constexpr serval::Rules r = serval::rules().min_length(2).max_length(5).pattern("^a").title("T").optional()
                                  .deprecated().read_only();
  static_assert(r.has_min_length && r.min_length_value == 2 && r.has_max_length && r.max_length_value == 5);
  static_assert(r.pattern_text.view() == "^a" && r.title_text.view() == "T");
  static_assert(r.is_optional && r.is_deprecated && r.is_read_only && !r.has_bounds() && r.has_length());
  static_assert(serval::rules() == serval::Rules{});
  static_assert(serval::FixedText<8>("abc").view() == "abc" && serval::FixedText<4>().empty());

  constexpr const auto& decl = serval::schema<ClassifyIn>;
  static_assert(decltype(serval::schema<ClassifyIn>)::kCount == 5);
  static_assert(std::get<0>(decl.fields).name == "text");
  static_assert(std::get<0>(decl.fields).rules.max_length_value == 10000);
  static_assert(std::get<1>(decl.fields).may_be_omitted() && std::get<2>(decl.fields).may_be_omitted());
  static_assert(!std::get<0>(decl.fields).may_be_omitted());
  static_assert(decl.description.view() == "A text to classify" && !decl.extra_forbidden);
  static_assert(serval::schema<Strict>.extra_forbidden);

  static_assert(serval::Described<ClassifyIn> && !serval::Described<std::string> && !serval::Described<Label>);
  static_assert(serval::DescribedEnum<Label> && !serval::DescribedEnum<int>);
  static_assert(serval::JsonValueType<int> && serval::JsonValueType<std::vector<std::optional<Tag>>> &&
                serval::JsonValueType<std::unordered_map<std::string, Label>> &&
                serval::JsonValueType<boost::json::value>);
  static_assert(!serval::JsonValueType<int*> && !serval::JsonValueType<std::map<int, int>> &&
                !serval::JsonValueType<long double> && !serval::JsonValueType<std::string_view> &&
                !serval::JsonValueType<std::optional<std::optional<int>>>);
  static_assert(serval::enum_names<Color>.size() == 3 && serval::enum_names<Color>[1].second == "green");
}

// ---- from_text ------------------------------------------------------------------------------

template <class T>
std::string text_error(std::string_view text, const serval::Rules& r = {}) {
  T out{};
  std::vector<serval::LocItem> loc{std::string("query"), std::string("p")};
  serval::ValidationErrors errs;
  EXPECT_FALSE(serval::from_text(text, out, r, loc, errs)) << text;
  return errs.to_json();
}

template <class T>
T text_ok(std::string_view text, const serval::Rules& r = {}) {
  T out{};
  std::vector<serval::LocItem> loc{std::string("path"), std::string("p")};
  serval::ValidationErrors errs;
  EXPECT_TRUE(serval::from_text(text, out, r, loc, errs)) << text << " -> " << errs.to_json();
  return out;
}

TEST(FromText, Bools) {
  for (const char* t : {"true", "TRUE", "1", "yes", "On", "t", "Y", " true "}) EXPECT_TRUE(text_ok<bool>(t)) << t;
  for (const char* t : {"false", "False", "0", "no", "OFF", "f", "n"}) EXPECT_FALSE(text_ok<bool>(t)) << t;
  EXPECT_EQ(text_error<bool>("maybe"),
            R"({"detail":[{"type":"bool_parsing","loc":["query","p"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]})");
  EXPECT_NE(text_error<bool>("").find("bool_parsing"), std::string::npos);
}

TEST(FromText, Integers) {
  EXPECT_EQ(text_ok<int>("42"), 42);
  EXPECT_EQ(text_ok<int>("+42"), 42);
  EXPECT_EQ(text_ok<int>("-42"), -42);
  EXPECT_EQ(text_ok<int>(" 7 "), 7);
  EXPECT_EQ(text_ok<unsigned>("-0"), 0u);
  EXPECT_EQ(text_ok<std::int64_t>("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(text_ok<std::uint64_t>("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(text_error<int>("abc"),
            R"({"detail":[{"type":"int_parsing","loc":["query","p"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]})");
  for (const char* t : {"", "1.5", "1e3", "0x10", "--1", "+", "1 2"}) {
    EXPECT_NE(text_error<int>(t).find("int_parsing"), std::string::npos) << t;
  }
  EXPECT_EQ(text_error<std::int8_t>("300"),
            R"({"detail":[{"type":"less_than_equal","loc":["query","p"],"msg":"Input should be less than or equal to 127","input":"300","ctx":{"le":127}}]})");
  EXPECT_NE(text_error<unsigned>("-1").find(R"("ctx":{"ge":0})"), std::string::npos);
  EXPECT_NE(text_error<std::int64_t>("99999999999999999999999").find(R"({"le":9223372036854775807})"),
            std::string::npos);
  EXPECT_NE(text_error<std::int64_t>("-9223372036854775809").find(R"({"ge":-9223372036854775808})"),
            std::string::npos);
  EXPECT_EQ(text_error<int>("0", serval::rules().ge(1).le(10)),
            R"({"detail":[{"type":"greater_than_equal","loc":["query","p"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]})");
  EXPECT_EQ(text_ok<int>("10", serval::rules().ge(1).le(10)), 10);
}

TEST(FromText, Floats) {
  EXPECT_EQ(text_ok<double>("1.5"), 1.5);
  EXPECT_EQ(text_ok<double>("+2"), 2.0);
  EXPECT_EQ(text_ok<double>("-.5"), -0.5);
  EXPECT_EQ(text_ok<double>("1e-400"), 0.0);
  EXPECT_EQ(text_ok<float>("0.1"), 0.1f);
  EXPECT_EQ(text_error<double>("abc"),
            R"({"detail":[{"type":"float_parsing","loc":["query","p"],"msg":"Input should be a valid number, unable to parse string as a number","input":"abc"}]})");
  for (const char* t : {"1e400", "nan", "inf", "-Infinity"}) {
    EXPECT_NE(text_error<double>(t).find("finite_number"), std::string::npos) << t;
  }
  EXPECT_NE(text_error<float>("1e39").find("finite_number"), std::string::npos);
  EXPECT_NE(text_error<double>("").find("float_parsing"), std::string::npos);
  EXPECT_NE(text_error<double>("0x1p3").find("float_parsing"), std::string::npos);
  EXPECT_NE(text_error<double>("0.5", serval::rules().lt(0.5)).find(R"("msg":"Input should be less than 0.5")"),
            std::string::npos);
}

TEST(FromText, StringsEnumsAndOptionals) {
  EXPECT_EQ(text_ok<std::string>(" spaced "), " spaced ");
  EXPECT_EQ(text_error<std::string>("ab", serval::rules().min_length(3)),
            R"({"detail":[{"type":"string_too_short","loc":["query","p"],"msg":"String should have at least 3 characters","input":"ab","ctx":{"min_length":3}}]})");
  EXPECT_NE(text_error<std::string>("ab1", serval::rules().pattern("^[a-z]+$")).find("string_pattern_mismatch"),
            std::string::npos);
  const std::string bad = text_error<std::string>("a\xC3(");
  EXPECT_NE(bad.find(R"("type":"string_unicode")"), std::string::npos);
  EXPECT_NE(bad.find("\"input\":\"a\xEF\xBF\xBD(\""), std::string::npos);  // echoed with U+FFFD: valid JSON
  EXPECT_EQ(text_ok<Color>("blue"), Color::kBlue);
  EXPECT_EQ(text_error<Color>("Blue"),
            R"({"detail":[{"type":"enum","loc":["query","p"],"msg":"Input should be 'red', 'green' or 'blue'","input":"Blue","ctx":{"expected":"'red', 'green' or 'blue'"}}]})");
  EXPECT_EQ(text_ok<std::optional<int>>("5"), 5);
  EXPECT_EQ(text_ok<std::optional<Label>>("NEGATIVE"), Label::kNegative);
  EXPECT_NE(text_error<std::optional<int>>("x").find("int_parsing"), std::string::npos);
}

// ---- to_json ----------------------------------------------------------------------------------

TEST(ToJson, WritesEveryType) {
  AllTypes v;
  v.b = true;
  v.i8 = -8;
  v.u8 = 200;
  v.i16 = -16;
  v.u16 = 60000;
  v.i32 = -32;
  v.u32 = 4000000000u;
  v.i64 = std::numeric_limits<std::int64_t>::min();
  v.u64 = std::numeric_limits<std::uint64_t>::max();
  v.f = 0.1f;
  v.d = 3.0;
  v.s = "x";
  v.oi = std::nullopt;
  v.vi = {1, 2};
  v.vb = {true, false};
  v.mi = {{"b", 2}, {"a", 1}};
  v.mt = {{"k", Tag{"n"}}};
  v.color = Color::kBlue;
  v.any = boost::json::parse(R"({"x":[1.5,-2,null,true,"s"],"u":18446744073709551615})");
  v.otags = std::vector<Tag>{};
  EXPECT_EQ(serval::to_json(v),
            R"({"b":true,"i8":-8,"u8":200,"i16":-16,"u16":60000,"i32":-32,"u32":4000000000,)"
            R"("i64":-9223372036854775808,"u64":18446744073709551615,"f":0.1,"d":3.0,"s":"x","oi":null,"vi":[1,2],)"
            R"("vb":[true,false],"mi":{"a":1,"b":2},"mt":{"k":{"name":"n"}},"color":"blue",)"
            R"("any":{"x":[1.5,-2,null,true,"s"],"u":18446744073709551615},"otags":[]})");
  std::string appended = "prefix:";
  serval::to_json(appended, Tag{"t"});
  EXPECT_EQ(appended, R"(prefix:{"name":"t"})");
}

TEST(ToJson, EnumsWithoutANameAreNull) {
  EXPECT_EQ(serval::to_json(Label::kNegative), R"("NEGATIVE")");
  EXPECT_EQ(serval::to_json(Label::kUnnamed), "null");
  EXPECT_EQ(serval::enum_name(Label::kPositive), "POSITIVE");
  EXPECT_EQ(serval::enum_from_name<Label>("NEGATIVE"), Label::kNegative);
  EXPECT_EQ(serval::enum_from_name<Label>("negative"), std::nullopt);
}

TEST(ToJson, FieldNamesAreEscapedAtCompileTime) {
  static_assert(serval::detail::kFieldKey<Escaped, 0>.view() == ",\"q\\\"u\\\\o\\u0009te\":");
  EXPECT_EQ(serval::to_json(Escaped{3}), R"({"q\"u\\o\u0009te":3})");
  Escaped back;
  serval::ValidationErrors errs;
  EXPECT_TRUE(serval::parse_json_body(serval::to_json(Escaped{4}), back, errs));
  EXPECT_EQ(back.quote, 4);
}

TEST(ToJson, StringEscaping) {
  const auto str = [](std::string_view s) {
    std::string out;
    serval::write_json_string(out, s);
    return out;
  };
  EXPECT_EQ(str(""), R"("")");
  EXPECT_EQ(str("plain"), R"("plain")");
  EXPECT_EQ(str("q\"b\\s/"), R"("q\"b\\s/")");
  EXPECT_EQ(str("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(str(std::string_view("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(str("h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "\"h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  // Invalid UTF-8 (stray continuation, truncated sequence, overlong, surrogate, > U+10FFFF) -> U+FFFD.
  EXPECT_EQ(str("a\x80z"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(str("a\xE2\x82"), "\"a\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(str("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(str("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(str("\xF4\x90\x80\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(ToJson, EscapingRoundTripsEveryCodeUnit) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF";
  std::string out;
  serval::write_json_string(out, all);
  const boost::json::value back = boost::json::parse(out);
  ASSERT_TRUE(back.is_string());
  EXPECT_EQ(std::string(back.get_string().data(), back.get_string().size()), all);

  Tag t{all};
  Tag parsed;
  serval::ValidationErrors errs;
  ASSERT_TRUE(serval::parse_json_body(serval::to_json(t), parsed, errs)) << errs.to_json();
  EXPECT_EQ(parsed.name, all);
}

TEST(ToJson, DoublesRoundTripExactly) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    double d;
    const std::uint64_t bits = rng();
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = serval::to_json(d);
    double back = 0;
    std::vector<serval::LocItem> loc;
    serval::ValidationErrors errs;
    // serval's own parser: Boost.JSON 1.81's boost::json::parse is not correctly rounded.
    ASSERT_TRUE(serval::parse_json_body(text, back, errs)) << text;
    ASSERT_EQ(std::memcmp(&d, &back, sizeof d), 0) << text;
    // float too
    const float f = static_cast<float>(d);
    if (!std::isfinite(f)) continue;
    float fb = 0;
    ASSERT_TRUE(serval::from_json(serval::parse_json_value(serval::to_json(f)), fb, loc, errs));
    ASSERT_EQ(f, fb) << serval::to_json(f);
  }
  EXPECT_EQ(serval::parse_json_value("6.597107995749348e+185").as_double(), 6.597107995749348e+185);
  EXPECT_EQ(serval::to_json(0.1), "0.1");
  EXPECT_EQ(serval::to_json(1.0), "1.0");
  EXPECT_EQ(serval::to_json(-0.0), "-0.0");
  EXPECT_EQ(serval::to_json(1e300), "1e+300");
  EXPECT_EQ(serval::to_json(5e-324), "5e-324");
  EXPECT_EQ(serval::to_json(0.1f), "0.1");
  EXPECT_EQ(serval::to_json(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(serval::to_json(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(serval::to_json(-std::numeric_limits<float>::infinity()), "null");
}

TEST(ToJson, ToJsonValueAndOptionals) {
  EXPECT_EQ(serval::to_json(std::optional<int>{}), "null");
  EXPECT_EQ(serval::to_json(std::optional<std::string>{"x"}), R"("x")");
  ClassifyIn in;
  in.text = "t";
  in.tags = {Tag{"a"}};
  EXPECT_EQ(serval::to_json_value(in),
            boost::json::parse(R"({"text":"t","top_k":1,"lang":null,"tags":[{"name":"a"}],"label":"POSITIVE"})"));
  EXPECT_EQ(serval::to_json_value(2.0), boost::json::value(2.0));
}

TEST(ToJson, ParseWriteRoundTrip) {
  const std::string body =
      R"({"text":"caf\u00e9 \"quoted\"\n","top_k":10,"lang":"fr","tags":[{"name":"x"},{"name":"\u2603"}],"label":"NEGATIVE"})";
  const auto v = parse_ok<ClassifyIn>(body);
  const std::string once = serval::to_json(v);
  EXPECT_EQ(once,
            "{\"text\":\"caf\xC3\xA9 \\\"quoted\\\"\\n\",\"top_k\":10,\"lang\":\"fr\",\"tags\":[{\"name\":\"x\"},"
            "{\"name\":\"\xE2\x98\x83\"}],\"label\":\"NEGATIVE\"}");
  EXPECT_EQ(serval::to_json(parse_ok<ClassifyIn>(once)), once);
}

TEST(ValidationErrorsBody, ShapeAndAppend) {
  serval::ValidationErrors errs;
  EXPECT_EQ(errs.to_json(), R"({"detail":[]})");
  serval::ValidationIssue issue;
  issue.type = "value_error";
  issue.loc = {std::string("body"), std::int64_t{3}, std::string("a\"b")};
  issue.msg = "Value error, bad";
  issue.input = 1.5;
  issue.ctx["error"] = "bad";
  errs.add(std::move(issue));
  EXPECT_EQ(errs.size(), 1u);
  EXPECT_FALSE(errs.empty());
  std::string out = "x";
  errs.append_json(out);
  EXPECT_EQ(out,
            R"(x{"detail":[{"type":"value_error","loc":["body",3,"a\"b"],"msg":"Value error, bad","input":1.5,"ctx":{"error":"bad"}}]})");
}

}  // namespace
}  // namespace jt
