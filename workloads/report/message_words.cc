#include "workloads/report/message_words.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>

#include <memory>
#include <vector>

#include "workloads/systems/system_adapter.h"

namespace streamlab::workloads {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Strings longer than this, and every bytes field, are shown by their size.
constexpr std::size_t kShortString = 24;
// Repeated fields show their first few elements.
constexpr int kRepeatedShown = 4;

// The envelope the system's nodes send, parsed; null when the bytes are not one.
std::unique_ptr<Message> parse(SystemKind system, std::span<const std::uint8_t> bytes) {
  return system_adapter(system).parse_message(bytes);
}

void append_value(const Message& m, const FieldDescriptor& f, int index, std::string& out);

void append_fields(const Message& m, std::string& out) {
  const Reflection& r = *m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r.ListFields(m, &fields);
  bool first = true;
  for (const FieldDescriptor* f : fields) {
    if (!first) out += ' ';
    first = false;
    out += f->name();
    out += ": ";
    if (!f->is_repeated()) {
      append_value(m, *f, -1, out);
      continue;
    }
    const int n = r.FieldSize(m, f);
    out += '[';
    for (int i = 0; i < n && i < kRepeatedShown; ++i) {
      if (i > 0) out += ", ";
      append_value(m, *f, i, out);
    }
    if (n > kRepeatedShown) out += ", ... " + std::to_string(n) + " in all";
    out += ']';
  }
}

void append_value(const Message& m, const FieldDescriptor& f, int index, std::string& out) {
  const Reflection& r = *m.GetReflection();
  const bool rep = index >= 0;
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out += std::to_string(rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out += std::to_string(rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out += std::to_string(rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out += std::to_string(rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out += std::to_string(rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out += std::to_string(rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out += (rep ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f)) ? "true" : "false";
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out += (rep ? r.GetRepeatedEnum(m, &f, index) : r.GetEnum(m, &f))->name();
      break;
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string s = rep ? r.GetRepeatedString(m, &f, index) : r.GetString(m, &f);
      if (f.type() == FieldDescriptor::TYPE_BYTES || s.size() > kShortString) {
        out += "<" + std::to_string(s.size()) + " bytes>";
      } else {
        out += '"' + s + '"';
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = rep ? r.GetRepeatedMessage(m, &f, index) : r.GetMessage(m, &f);
      out += '{';
      append_fields(sub, out);
      out += '}';
      break;
    }
  }
}

// The envelope's one set field (its oneof body).
const FieldDescriptor* body(const Message& m) {
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  return fields.size() == 1 && fields[0]->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
             ? fields[0]
             : nullptr;
}

std::string not_a_message(std::span<const std::uint8_t> bytes) {
  return "<" + std::to_string(bytes.size()) + " bytes, not a message>";
}

}  // namespace

std::string describe_message(SystemKind system, std::span<const std::uint8_t> bytes) {
  const std::unique_ptr<Message> m = parse(system, bytes);
  if (m == nullptr) return not_a_message(bytes);
  const FieldDescriptor* f = body(*m);
  std::string out;
  if (f == nullptr) {
    append_fields(*m, out);
    return out;
  }
  out = f->name() + " {";
  append_fields(m->GetReflection()->GetMessage(*m, f), out);
  out += '}';
  return out;
}

std::string message_kind(SystemKind system, std::span<const std::uint8_t> bytes) {
  const std::unique_ptr<Message> m = parse(system, bytes);
  if (m == nullptr) return "unparsed";
  const FieldDescriptor* f = body(*m);
  return f == nullptr ? "message" : f->name();
}

}  // namespace streamlab::workloads
