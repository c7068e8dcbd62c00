#include "sim/trace.h"

namespace streamlab::sim {

const char* to_string(TraceKind kind) {
  switch (kind) {
    case TraceKind::send: return "send";
    case TraceKind::deliver: return "deliver";
    case TraceKind::drop: return "drop";
    case TraceKind::broken: return "broken";
    case TraceKind::disk_write: return "disk_write";
    case TraceKind::disk_fsync: return "disk_fsync";
    case TraceKind::disk_read: return "disk_read";
    case TraceKind::disk_truncate: return "disk_truncate";
    case TraceKind::disk_lost: return "disk_lost";
    case TraceKind::crash: return "crash";
    case TraceKind::restart: return "restart";
    case TraceKind::pause: return "pause";
    case TraceKind::clock_jump: return "clock_jump";
    case TraceKind::fault: return "fault";
    case TraceKind::note: return "note";
    case TraceKind::disk_remove: return "disk_remove";
  }
  return "?";
}

}  // namespace streamlab::sim
