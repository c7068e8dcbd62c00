#include "runtime/runtime.h"

namespace streamlab {

const char* to_string(IoStatus status) {
  switch (status) {
    case IoStatus::ok:
      return "ok";
    case IoStatus::io_error:
      return "io_error";
    case IoStatus::disk_full:
      return "disk_full";
  }
  return "unknown";
}

}  // namespace streamlab
