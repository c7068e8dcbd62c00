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

const char* to_string(Work work) {
  switch (work) {
    case Work::send: return "send";
    case Work::receive: return "receive";
    case Work::produce: return "produce";
    case Work::publish: return "publish";
    case Work::journal_append: return "journal_append";
    case Work::entry_write: return "entry_write";
    case Work::entry_read: return "entry_read";
    case Work::dispatch: return "dispatch";
    case Work::consume: return "consume";
  }
  return "unknown";
}

}  // namespace streamlab
