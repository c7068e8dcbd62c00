#include "workloads/history/flat_json.h"

namespace streamlab::workloads {

Result<std::map<std::string, std::string>> parse_flat_json(const std::string& line) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
  };
  auto string_at = [&](std::string* s) -> bool {
    if (i >= line.size() || line[i] != '"') return false;
    ++i;
    while (i < line.size() && line[i] != '"') {
      if (line[i] == '\\' && i + 1 < line.size()) {
        const char e = line[++i];
        if (e == 'n') {
          *s += '\n';
        } else if (e == 'u' && i + 4 < line.size()) {
          *s += static_cast<char>(std::stoi(line.substr(i + 1, 4), nullptr, 16));
          i += 4;
        } else {
          *s += e;
        }
      } else {
        *s += line[i];
      }
      ++i;
    }
    if (i >= line.size()) return false;
    ++i;
    return true;
  };
  skip();
  if (i >= line.size() || line[i] != '{') return Error{"expected '{'"};
  ++i;
  skip();
  if (i < line.size() && line[i] == '}') return out;
  for (;;) {
    skip();
    std::string key;
    if (!string_at(&key)) return Error{"expected a quoted key"};
    skip();
    if (i >= line.size() || line[i] != ':') return Error{"expected ':' after \"" + key + "\""};
    ++i;
    skip();
    std::string value;
    if (i < line.size() && line[i] == '"') {
      if (!string_at(&value)) return Error{"unterminated string in \"" + key + "\""};
    } else {
      const std::size_t start = i;
      while (i < line.size() && (line[i] == '-' || (line[i] >= '0' && line[i] <= '9'))) ++i;
      if (i == start) return Error{"\"" + key + "\": expected a string or an integer"};
      value = line.substr(start, i - start);
    }
    out[key] = value;
    skip();
    if (i < line.size() && line[i] == ',') {
      ++i;
      continue;
    }
    if (i < line.size() && line[i] == '}') return out;
    return Error{"expected ',' or '}' after \"" + key + "\""};
  }
}

}  // namespace streamlab::workloads
