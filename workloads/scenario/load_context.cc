#include "workloads/scenario/load_context.h"

#include <google/protobuf/io/tokenizer.h>

#include "workloads/scenario/units.h"

namespace streamlab::workloads {

using google::protobuf::FieldDescriptor;

int Place::at(const char* field, int index) const {
  const FieldDescriptor* fd = message->GetDescriptor()->FindFieldByName(field);
  SL_ASSERT_MSG(fd != nullptr, field);
  if (tree == nullptr) return line;
  const auto location = tree->GetLocation(fd, fd->is_repeated() ? index : -1);
  if (location.line >= 0) return location.line;
  // Protobuf records one location per `field:`, not per element of a `[a, b, c]` list:
  // an element past the recorded ones is on the list's line.
  if (fd->is_repeated() && index > 0) {
    const auto first = tree->GetLocation(fd, 0);
    if (first.line >= 0) return first.line;
  }
  return line;
}

Place Place::nested(const char* field, const google::protobuf::Message& child, int index) const {
  const FieldDescriptor* fd = message->GetDescriptor()->FindFieldByName(field);
  SL_ASSERT_MSG(fd != nullptr, field);
  const int child_index = fd->is_repeated() ? index : -1;
  Place p;
  p.message = &child;
  p.tree = tree == nullptr ? nullptr : tree->GetTreeForNested(fd, child_index);
  p.line = at(field, index);
  return p;
}

namespace {

class ParseErrors final : public google::protobuf::io::ErrorCollector {
 public:
  explicit ParseErrors(LoadContext& ctx) : ctx_(ctx) {}
  void AddError(int line, google::protobuf::io::ColumnNumber,
                const std::string& message) override {
    ctx_.error(line, message);
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber,
                  const std::string& message) override {
    ctx_.error(line, message);
  }

 private:
  LoadContext& ctx_;
};

}  // namespace

bool parse_text(const std::string& text, google::protobuf::Message* out,
                google::protobuf::TextFormat::ParseInfoTree* tree, LoadContext& ctx) {
  ParseErrors collector(ctx);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(tree);
  return parser.ParseFromString(text, out) && !ctx.failed();
}

std::string LoadContext::joined_errors() const {
  std::string all;
  for (const std::string& e : errors_) {
    if (!all.empty()) all += "\n";
    all += e;
  }
  return all;
}

std::int64_t LoadContext::duration(const std::string& text, int line, const char* field,
                                   std::int64_t fallback, bool allow_negative) {
  if (text.empty()) return fallback;
  return take(parse_duration_ns(text, allow_negative), line, field, fallback);
}

std::int64_t LoadContext::bytes(const std::string& text, int line, const char* field,
                                std::int64_t fallback) {
  if (text.empty()) return fallback;
  return take(parse_bytes(text), line, field, fallback);
}

std::int64_t LoadContext::bandwidth(const std::string& text, int line, const char* field,
                                    std::int64_t fallback) {
  if (text.empty()) return fallback;
  return take(parse_bandwidth(text), line, field, fallback);
}

double LoadContext::rate(const std::string& text, int line, const char* field, double fallback) {
  if (text.empty()) return fallback;
  return take(parse_rate_per_s(text), line, field, fallback);
}

std::int64_t LoadContext::picoseconds(const std::string& text, int line, const char* field,
                                      std::int64_t fallback) {
  if (text.empty()) return fallback;
  return take(parse_picoseconds(text), line, field, fallback);
}

std::vector<std::uint32_t> LoadContext::nodes(
    const google::protobuf::RepeatedPtrField<std::string>& names, const Place& place,
    const char* field, bool required) {
  std::vector<std::uint32_t> ids;
  if (names.empty() && required) {
    error(place.line, std::string("missing '") + field + "': name at least one node");
  }
  for (int i = 0; i < names.size(); ++i) {
    const auto it = node_ids.find(names[i]);
    if (it == node_ids.end()) {
      error(place.at(field, i), std::string(field) + ": no node named \"" + names[i] +
                                    "\" in the topology");
      continue;
    }
    ids.push_back(it->second);
  }
  return ids;
}

}  // namespace streamlab::workloads
