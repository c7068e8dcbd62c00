#include "workloads/history/history.h"

namespace streamlab::workloads {

const char* to_string(OpType type) {
  switch (type) {
    case OpType::invoke:
      return "invoke";
    case OpType::ok:
      return "ok";
    case OpType::fail:
      return "fail";
    case OpType::info:
      return "info";
  }
  return "unknown";
}

}  // namespace streamlab::workloads
