#pragma once

// Writing an output file whole: the reports, histories and JSON the commands write.

#include <string>

namespace streamlab::workloads {

// False, with the reason in *error, when the file cannot be written.
bool write_file(const std::string& path, const std::string& contents, std::string* error);
// Writes a temporary file next to `path`, then renames it over `path`: a reader (a browser
// reloading a report) finds the old file or the new one, never half of one.
bool write_file_atomically(const std::string& path, const std::string& contents,
                           std::string* error);

}  // namespace streamlab::workloads
