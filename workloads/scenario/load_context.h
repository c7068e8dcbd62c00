#pragma once

// What the scenario loader's parts share: the file name, the errors found so far, and
// the parse-location tree that maps every field back to its line.

#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace streamlab::workloads {

// A message of the file with its place: `at(field)` is the line of a field, or of the
// enclosing message when the field is absent, so a missing setting is reported where it
// should have been.
struct Place {
  const google::protobuf::Message* message = nullptr;
  const google::protobuf::TextFormat::ParseInfoTree* tree = nullptr;
  int line = 0;  // 0-based, as protobuf reports it.

  int at(const char* field, int index = -1) const;
  Place nested(const char* field, const google::protobuf::Message& child, int index = -1) const;
};

class LoadContext {
 public:
  explicit LoadContext(std::string file) : file_(std::move(file)) {}

  void error(int line, const std::string& message) {
    errors_.push_back(file_ + ":" + std::to_string(line + 1) + ": " + message);
  }
  std::string origin(int line) const { return file_ + ":" + std::to_string(line + 1); }
  const std::string& file() const { return file_; }
  bool failed() const { return !errors_.empty(); }
  // Takes the errors of another file's context (a hardware file the scenario names).
  void absorb(const LoadContext& other) {
    errors_.insert(errors_.end(), other.errors_.begin(), other.errors_.end());
  }
  std::string joined_errors() const;

  // Parses a quantity; on error records it and returns `fallback`.
  std::int64_t duration(const std::string& text, int line, const char* field,
                        std::int64_t fallback, bool allow_negative = false);
  std::int64_t bytes(const std::string& text, int line, const char* field, std::int64_t fallback);
  std::int64_t bandwidth(const std::string& text, int line, const char* field,
                         std::int64_t fallback);
  double rate(const std::string& text, int line, const char* field, double fallback);
  std::int64_t picoseconds(const std::string& text, int line, const char* field,
                           std::int64_t fallback);

  // Names resolved to ids.
  std::map<std::string, std::uint32_t, std::less<>> node_ids;
  std::map<std::string, std::uint32_t, std::less<>> zone_ids;
  // Resolves node names; unknown names are errors. Empty names list: error if required.
  std::vector<std::uint32_t> nodes(const google::protobuf::RepeatedPtrField<std::string>& names,
                                   const Place& place, const char* field, bool required);

 private:
  template <typename T>
  T take(const Result<T>& r, int line, const char* field, T fallback) {
    if (r) return r.value();
    error(line, std::string(field) + ": " + r.error());
    return fallback;
  }

  std::string file_;
  std::vector<std::string> errors_;
};

// Parses `text` (Protobuf text format) into `out`, recording each field's line in `tree`
// and the parser's errors and warnings (deprecated fields: say it exactly) as errors of
// ctx's file; true when there was none.
bool parse_text(const std::string& text, google::protobuf::Message* out,
                google::protobuf::TextFormat::ParseInfoTree* tree, LoadContext& ctx);

}  // namespace streamlab::workloads
