#pragma once

// Assertions that stay on in every build type (Redpanda's vassert, TigerBeetle's
// assert): a wrong state must stop the simulation with a message, not drift. A comparison
// says what it compared: SL_ASSERT_EQ(a, b) fails with "a == b (3 vs 4)".

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace streamlab::detail {

[[noreturn]] inline void assert_failed(const char* expr, const char* file, int line,
                                       const char* msg) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s%s%s\n", file, line, expr,
               msg[0] != '\0' ? ": " : "", msg);
  std::fflush(stderr);
  std::abort();
}

// A value as an assertion message shows it.
template <typename T>
std::string assert_text(const T& v) {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_enum_v<U>) {
    return std::to_string(static_cast<std::underlying_type_t<U>>(v));
  } else if constexpr (std::is_arithmetic_v<U>) {
    return std::to_string(v);
  } else if constexpr (std::is_array_v<T> && std::is_convertible_v<const T&, std::string_view>) {
    return "\"" + std::string(std::string_view(v)) + "\"";
  } else if constexpr (std::is_null_pointer_v<U>) {
    return "null";
  } else if constexpr (std::is_pointer_v<U>) {
    if (v == nullptr) return "null";
    if constexpr (std::is_convertible_v<const U&, std::string_view>) {
      return "\"" + std::string(std::string_view(v)) + "\"";
    }
    return "non-null";
  } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
    return "\"" + std::string(std::string_view(v)) + "\"";
  } else {
    return "?";
  }
}

// Integers of mixed signedness compare by value (std::cmp_less & co), as the reader of
// SL_ASSERT_LT(size, limit) means; everything else with its own operator.
template <typename T>
constexpr bool is_cmp_integer =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
    !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> &&
    !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>;
template <typename A, typename B>
constexpr bool both_integers = is_cmp_integer<A> && is_cmp_integer<B>;

struct Eq {
  template <typename A, typename B>
  static bool test(const A& a, const B& b) {
    if constexpr (both_integers<A, B>) return std::cmp_equal(a, b); else return a == b;
  }
};
struct Ne {
  template <typename A, typename B>
  static bool test(const A& a, const B& b) {
    if constexpr (both_integers<A, B>) return std::cmp_not_equal(a, b); else return a != b;
  }
};
struct Lt {
  template <typename A, typename B>
  static bool test(const A& a, const B& b) {
    if constexpr (both_integers<A, B>) return std::cmp_less(a, b); else return a < b;
  }
};
struct Le {
  template <typename A, typename B>
  static bool test(const A& a, const B& b) {
    if constexpr (both_integers<A, B>) return std::cmp_less_equal(a, b); else return a <= b;
  }
};
struct Gt {
  template <typename A, typename B>
  static bool test(const A& a, const B& b) {
    if constexpr (both_integers<A, B>) return std::cmp_greater(a, b); else return a > b;
  }
};
struct Ge {
  template <typename A, typename B>
  static bool test(const A& a, const B& b) {
    if constexpr (both_integers<A, B>) return std::cmp_greater_equal(a, b); else return a >= b;
  }
};

template <typename A, typename B>
[[noreturn]] void compare_failed(const char* expr, const char* file, int line, const A& a,
                                 const B& b) {
  const std::string values = "(" + assert_text(a) + " vs " + assert_text(b) + ")";
  assert_failed(expr, file, line, values.c_str());
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

// Each operand is evaluated once; the message prints both values.
#define SL_ASSERT_CMP_(a, cmp, op, b)                                            \
  do {                                                                            \
    const auto& sl_assert_a_ = (a);                                               \
    const auto& sl_assert_b_ = (b);                                               \
    if (!::streamlab::detail::cmp::test(sl_assert_a_, sl_assert_b_)) [[unlikely]]  \
      ::streamlab::detail::compare_failed(#a " " #op " " #b, __FILE__, __LINE__,  \
                                          sl_assert_a_, sl_assert_b_);            \
  } while (0)

#define SL_ASSERT_EQ(a, b) SL_ASSERT_CMP_(a, Eq, ==, b)
#define SL_ASSERT_NE(a, b) SL_ASSERT_CMP_(a, Ne, !=, b)
#define SL_ASSERT_LT(a, b) SL_ASSERT_CMP_(a, Lt, <, b)
#define SL_ASSERT_LE(a, b) SL_ASSERT_CMP_(a, Le, <=, b)
#define SL_ASSERT_GT(a, b) SL_ASSERT_CMP_(a, Gt, >, b)
#define SL_ASSERT_GE(a, b) SL_ASSERT_CMP_(a, Ge, >=, b)
