// Validation errors in the exact shape FastAPI (pydantic v2) answers with 422, so clients written
// against a FastAPI service keep working:
//
//   {"detail":[{"type":"string_too_short","loc":["body","text"],
//               "msg":"String should have at least 1 character","input":"","ctx":{"min_length":1}}]}
//
//   serval::ValidationErrors errs;
//   if (!serval::parse_json_body(body, in, errs)) return respond(422, errs.to_json());
//
// Hostile input cannot make the list unbounded: only the first kMaxIssues issues are kept, and an
// echoed "input" larger than kMaxEchoBytes (estimated) is replaced by null.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace serval {

// One step of an error location: a field name / map key, or a list index.
using LocItem = std::variant<std::string, std::int64_t>;

struct ValidationIssue {
  std::string type;            // machine-readable, e.g. "missing", "int_parsing"
  std::vector<LocItem> loc;    // e.g. ["body", "tags", 2, "name"]
  std::string msg;             // pydantic's human-readable message
  boost::json::value input;    // the offending input (for "missing": the enclosing object)
  boost::json::object ctx;     // the violated limit, e.g. {"ge": 1}; omitted from JSON when empty
};

class ValidationErrors {
 public:
  static constexpr std::size_t kMaxIssues = 256;
  static constexpr std::size_t kMaxEchoBytes = 64 * 1024;

  // Keeps the issue unless kMaxIssues are already kept; either way it counts in added().
  void add(ValidationIssue issue);

  bool empty() const noexcept { return added_ == 0; }
  std::size_t size() const noexcept { return issues_.size(); }
  // Every add() so far, kept or not: compare before/after to see whether a step found problems.
  std::size_t added() const noexcept { return added_; }
  std::size_t dropped() const noexcept { return added_ - issues_.size(); }
  bool full() const noexcept { return issues_.size() >= kMaxIssues; }
  const std::vector<ValidationIssue>& issues() const noexcept { return issues_; }
  void clear() noexcept;

  // FastAPI's 422 body: {"detail":[{"type","loc","msg","input"[,"ctx"]}...]}.
  std::string to_json() const;
  // Appends the same body to `out` (no intermediate string).
  void append_json(std::string& out) const;

 private:
  std::vector<ValidationIssue> issues_;
  std::size_t added_ = 0;
};

}  // namespace serval
