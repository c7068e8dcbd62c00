#pragma once

// Assertions that stay on in every build type (Redpanda's vassert, TigerBeetle's
// assert): a wrong state must stop the simulation with a message, not drift.

#include <cstdio>
#include <cstdlib>

namespace streamlab::detail {

[[noreturn]] inline void assert_failed(const char* expr, const char* file, int line,
                                       const char* msg) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s%s%s\n", file, line, expr,
               msg[0] != '\0' ? ": " : "", msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace streamlab::detail

#define SL_ASSERT(expr)                                                           \
  do {                                                                            \
    if (!(expr)) [[unlikely]]                                                     \
      ::streamlab::detail::assert_failed(#expr, __FILE__, __LINE__, "");          \
  } while (0)

#define SL_ASSERT_MSG(expr, msg)                                                  \
  do {                                                                            \
    if (!(expr)) [[unlikely]]                                                     \
      ::streamlab::detail::assert_failed(#expr, __FILE__, __LINE__, (msg));       \
  } while (0)
