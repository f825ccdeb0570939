#include "serval/app/json_schema.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace st {

enum class Label { kPositive, kNegative };

struct Tag {
  std::string name;
};

struct ClassifyIn {
  std::string text;
  int top_k = 1;
  std::optional<std::string> lang;
  std::vector<Tag> tags;
  Label label = Label::kPositive;
  std::map<std::string, double> weights;
  std::optional<Tag> primary;
  boost::json::value extra;
};

namespace one {
struct Item {
  int a = 0;
};
}  // namespace one
namespace two {
struct Item {
  std::string b;
};
}  // namespace two

struct First {
  int x = 0;
};
struct Second {
  int y = 0;
};
struct Third {
  int z = 0;
};
struct Decoy {
  int d = 0;
};

template <class T>
struct Page {
  std::vector<T> items;
  std::uint64_t total = 0;
};

struct Node {
  std::string name;
  std::vector<Node> children;
};

struct Strict {
  bool flag = false;
};

struct Annotated {
  int legacy = 0;
  std::int8_t small = 0;
  std::uint16_t port = 80;
  float ratio = 0.5f;
  std::vector<int> ids;
  std::unordered_map<std::string, std::optional<int>> counts;
  std::optional<double> score;
};

}  // namespace st

template <>
inline constexpr auto serval::enum_names<st::Label> =
    serval::enumerators(std::pair{st::Label::kPositive, "POSITIVE"}, std::pair{st::Label::kNegative, "NEGATIVE"})
        .doc("Sentiment");

template <>
inline constexpr auto serval::schema<st::Tag> = serval::fields(serval::field("name", &st::Tag::name).min_length(1));

template <>
inline constexpr auto serval::schema<st::ClassifyIn> = serval::fields(
    serval::field("text", &st::ClassifyIn::text).min_length(1).max_length(10000).doc("Text to classify"),
    serval::field("top_k", &st::ClassifyIn::top_k).ge(1).le(10).optional(),
    serval::field("lang", &st::ClassifyIn::lang).pattern("^[a-z]{2}$"),
    serval::field("tags", &st::ClassifyIn::tags).max_length(5).optional(),
    serval::field("label", &st::ClassifyIn::label).optional(),
    serval::field("weights", &st::ClassifyIn::weights),
    serval::field("primary", &st::ClassifyIn::primary),
    serval::field("extra", &st::ClassifyIn::extra).optional()).doc("A text to classify");

template <>
inline constexpr auto serval::schema<st::one::Item> = serval::fields(serval::field("a", &st::one::Item::a));
template <>
inline constexpr auto serval::schema<st::two::Item> = serval::fields(serval::field("b", &st::two::Item::b));

template <>
inline constexpr auto serval::schema<st::First> = serval::fields(serval::field("x", &st::First::x)).named("Thing");
template <>
inline constexpr auto serval::schema<st::Second> = serval::fields(serval::field("y", &st::Second::y)).named("Thing");
template <>
inline constexpr auto serval::schema<st::Third> = serval::fields(serval::field("z", &st::Third::z)).named("Thing");

template <>
inline constexpr auto serval::schema<st::Decoy> =
    serval::fields(serval::field("d", &st::Decoy::d)).named("st__Second");

template <class T>
inline constexpr auto serval::schema<st::Page<T>> =
    serval::fields(serval::field("items", &st::Page<T>::items), serval::field("total", &st::Page<T>::total));

template <>
inline constexpr auto serval::schema<st::Node> =
    serval::fields(serval::field("name", &st::Node::name), serval::field("children", &st::Node::children).optional());

template <>
inline constexpr auto serval::schema<st::Strict> =
    serval::fields(serval::field("flag", &st::Strict::flag)).forbid_extra().named("StrictModel");

template <>
inline constexpr auto serval::schema<st::Annotated> = serval::fields(
    serval::field("legacy", &st::Annotated::legacy).deprecated().read_only().title("Old value").doc("Do not use"),
    serval::field("small", &st::Annotated::small),
    serval::field("port", &st::Annotated::port).ge(1).optional(),
    serval::field("ratio", &st::Annotated::ratio).gt(0).lt(1).optional(),
    serval::field("ids", &st::Annotated::ids).min_length(1),
    serval::field("counts", &st::Annotated::counts).max_length(3),
    serval::field("score", &st::Annotated::score).ge(-0.5).le(0.5));

namespace st {
namespace {

std::string text(const boost::json::value& v) { return serval::to_json(v); }
std::string text(const boost::json::object& o) { return serval::to_json(boost::json::value(o)); }

TEST(JsonSchema, NestedStructWithEnumOptionalVectorAndMap) {
  serval::SchemaRegistry reg;
  EXPECT_EQ(text(reg.schema_for<ClassifyIn>()), R"({"$ref":"#/components/schemas/ClassifyIn"})");
  EXPECT_EQ(text(reg.components()),
            R"({"ClassifyIn":{"type":"object","title":"ClassifyIn","description":"A text to classify","properties":{)"
            R"("text":{"type":"string","minLength":1,"maxLength":10000,"title":"Text","description":"Text to classify"},)"
            R"("top_k":{"type":"integer","minimum":1,"maximum":10,"title":"Top K","default":1},)"
            R"("lang":{"anyOf":[{"type":"string","pattern":"^[a-z]{2}$"},{"type":"null"}],"title":"Lang","default":null},)"
            R"("tags":{"type":"array","items":{"$ref":"#/components/schemas/Tag"},"maxItems":5,"title":"Tags","default":[]},)"
            R"("label":{"$ref":"#/components/schemas/Label","default":"POSITIVE"},)"
            R"("weights":{"type":"object","additionalProperties":{"type":"number"},"title":"Weights"},)"
            R"("primary":{"anyOf":[{"$ref":"#/components/schemas/Tag"},{"type":"null"}],"title":"Primary","default":null},)"
            R"("extra":{"title":"Extra","default":null}},)"
            R"("required":["text","weights"]},)"
            R"("Tag":{"type":"object","title":"Tag","properties":{"name":{"type":"string","minLength":1,"title":"Name"}},"required":["name"]},)"
            R"("Label":{"type":"string","enum":["POSITIVE","NEGATIVE"],"title":"Label","description":"Sentiment"}})");
}

TEST(JsonSchema, ScalarsWithRules) {
  serval::SchemaRegistry reg;
  EXPECT_EQ(text(reg.schema_for<int>(serval::rules().ge(1).le(10))), R"({"type":"integer","minimum":1,"maximum":10})");
  EXPECT_EQ(text(reg.schema_for<double>(serval::rules().gt(0).lt(0.5))),
            R"({"type":"number","exclusiveMinimum":0,"exclusiveMaximum":0.5})");
  EXPECT_EQ(text(reg.schema_for<bool>()), R"({"type":"boolean"})");
  EXPECT_EQ(text(reg.schema_for<std::string>(serval::rules().min_length(2).pattern("^x").doc("A code"))),
            R"({"type":"string","minLength":2,"pattern":"^x","description":"A code"})");
  EXPECT_EQ(text(reg.schema_for<std::optional<std::int64_t>>(serval::rules().ge(0))),
            R"({"anyOf":[{"type":"integer","minimum":0},{"type":"null"}]})");
  EXPECT_EQ(text(reg.schema_for<std::vector<std::string>>(serval::rules().min_length(1).title("Names"))),
            R"({"type":"array","items":{"type":"string"},"minItems":1,"title":"Names"})");
  EXPECT_EQ(text(reg.schema_for<boost::json::value>()), "{}");
  EXPECT_EQ(text(reg.schema_for<std::uint8_t>()), R"({"type":"integer","minimum":0,"maximum":255})");
  EXPECT_EQ(text(reg.schema_for<std::uint64_t>()), R"({"type":"integer","minimum":0})");
  EXPECT_EQ(text(reg.schema_for<std::int16_t>(serval::rules().le(5))),
            R"({"type":"integer","maximum":5,"minimum":-32768})");
  EXPECT_EQ(text(reg.schema_for<Label>(serval::rules().deprecated())),
            R"({"$ref":"#/components/schemas/Label","deprecated":true})");
  EXPECT_TRUE(reg.components().contains("Label"));
}

TEST(JsonSchema, PropertyAnnotations) {
  serval::SchemaRegistry reg;
  reg.schema_for<Annotated>();
  EXPECT_EQ(text(reg.components().at("Annotated")),
            R"({"type":"object","title":"Annotated","properties":{)"
            R"("legacy":{"type":"integer","title":"Old value","description":"Do not use","deprecated":true,"readOnly":true},)"
            R"("small":{"type":"integer","minimum":-128,"maximum":127,"title":"Small"},)"
            R"("port":{"type":"integer","minimum":1,"maximum":65535,"title":"Port","default":80},)"
            R"("ratio":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1,"title":"Ratio","default":0.5},)"
            R"("ids":{"type":"array","items":{"type":"integer"},"minItems":1,"title":"Ids"},)"
            R"("counts":{"type":"object","additionalProperties":{"anyOf":[{"type":"integer"},{"type":"null"}]},"maxProperties":3,"title":"Counts"},)"
            R"("score":{"anyOf":[{"type":"number","minimum":-0.5,"maximum":0.5},{"type":"null"}],"title":"Score","default":null}},)"
            R"("required":["legacy","small","ids","counts"]})");
}

TEST(JsonSchema, ForbidExtraAndExplicitName) {
  serval::SchemaRegistry reg;
  EXPECT_EQ(text(reg.schema_for<Strict>()), R"({"$ref":"#/components/schemas/StrictModel"})");
  EXPECT_EQ(text(reg.components()),
            R"({"StrictModel":{"type":"object","title":"StrictModel","properties":{"flag":{"type":"boolean","title":"Flag"}},)"
            R"("required":["flag"],"additionalProperties":false}})");
}

TEST(JsonSchema, SameShortNameInTwoNamespacesDoesNotCollide) {
  serval::SchemaRegistry reg;
  EXPECT_EQ(text(reg.schema_for<one::Item>()), R"({"$ref":"#/components/schemas/Item"})");
  EXPECT_EQ(text(reg.schema_for<two::Item>()), R"({"$ref":"#/components/schemas/st__two__Item"})");
  EXPECT_EQ(text(reg.schema_for<one::Item>()), R"({"$ref":"#/components/schemas/Item"})");  // stable
  EXPECT_EQ(reg.component_name<two::Item>(), "st__two__Item");
  EXPECT_EQ(text(reg.components()),
            R"({"Item":{"type":"object","title":"Item","properties":{"a":{"type":"integer","title":"A"}},"required":["a"]},)"
            R"("st__two__Item":{"type":"object","title":"Item","properties":{"b":{"type":"string","title":"B"}},"required":["b"]}})");
}

TEST(JsonSchema, SameExplicitNameFallsBackToQualifiedThenNumbered) {
  serval::SchemaRegistry reg;
  EXPECT_EQ(reg.component_name<First>(), "Thing");
  EXPECT_EQ(reg.component_name<Third>(), "st__Third");  // "Thing" is taken: the qualified name
  EXPECT_EQ(reg.component_name<Decoy>(), "st__Second");
  EXPECT_EQ(reg.component_name<Second>(), "Thing_2");   // "Thing" and "st__Second" are taken
  EXPECT_EQ(reg.component_name<First>(), "Thing");
  EXPECT_EQ(reg.components().size(), 4u);
  EXPECT_EQ(text(reg.components().at("Thing_2")),
            R"({"type":"object","title":"Thing","properties":{"y":{"type":"integer","title":"Y"}},"required":["y"]})");
}

TEST(JsonSchema, TemplateNamesAndRecursion) {
  serval::SchemaRegistry reg;
  EXPECT_EQ(reg.component_name<Page<Tag>>(), "Page_Tag");
  EXPECT_EQ(reg.component_name<Page<one::Item>>(), "Page_Item");
  EXPECT_EQ(reg.component_name<Page<two::Item>>(), "st__Page_st__two__Item");
  EXPECT_EQ(text(reg.components().at("Page_Tag")),
            R"({"type":"object","title":"Page_Tag","properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/Tag"},"title":"Items"},)"
            R"("total":{"type":"integer","minimum":0,"title":"Total"}},"required":["items","total"]})");

  EXPECT_EQ(text(reg.schema_for<Node>()), R"({"$ref":"#/components/schemas/Node"})");
  EXPECT_EQ(text(reg.components().at("Node")),
            R"({"type":"object","title":"Node","properties":{"name":{"type":"string","title":"Name"},)"
            R"("children":{"type":"array","items":{"$ref":"#/components/schemas/Node"},"title":"Children","default":[]}},)"
            R"("required":["name"]})");
}

TEST(JsonSchema, TypeNamesAreCleanedAtCompileTime) {
  using serval::detail::component_name_from;
  static_assert(serval::detail::kShortTypeName<Tag>.view() == "Tag");
  static_assert(serval::detail::kQualifiedTypeName<one::Item>.view() == "st__one__Item");
  static_assert(component_name_from("ns::Outer<int>::Inner", false).view() == "Inner");
  static_assert(component_name_from("std::map<std::string, ns::V>", false).view() == "map_string_V");
  static_assert(component_name_from("(anonymous namespace)::Hidden", false).view() == "Hidden");
  static_assert(component_name_from("<>", false).view() == "Model");
  EXPECT_EQ(serval::detail::kShortTypeName<Page<Page<Tag>>>.view(), "Page_Page_Tag");
}

TEST(JsonSchema, TitleCaseLikePydantic) {
  EXPECT_EQ(serval::detail::title_case("top_k"), "Top K");
  EXPECT_EQ(serval::detail::title_case("text"), "Text");
  EXPECT_EQ(serval::detail::title_case("userID"), "Userid");
  EXPECT_EQ(serval::detail::title_case("a1b"), "A1B");
  EXPECT_EQ(serval::detail::title_case("__private"), "  Private");
}

}  // namespace
}  // namespace st
