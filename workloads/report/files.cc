#include "workloads/report/files.h"

#include <cstdio>
#include <fstream>

namespace streamlab::workloads {

bool write_file(const std::string& path, const std::string& contents, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << contents;
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

bool write_file_atomically(const std::string& path, const std::string& contents,
                           std::string* error) {
  const std::string temporary = path + ".tmp";
  if (!write_file(temporary, contents, error)) return false;
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    *error = "cannot write " + path + " (renaming " + temporary + " failed)";
    return false;
  }
  return true;
}

}  // namespace streamlab::workloads
