#pragma once

// A value or an error message: operating errors (bad user input, I/O failures) are
// values, handled where they can be (STYLE.md rule 5). C++23's std::expected in small.

#include <string>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace streamlab {

struct Error {
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const {
    SL_ASSERT_MSG(ok(), "value() of an error Result");
    return std::get<0>(v_);
  }
  T& value() {
    SL_ASSERT_MSG(ok(), "value() of an error Result");
    return std::get<0>(v_);
  }
  const std::string& error() const {
    SL_ASSERT_MSG(!ok(), "error() of an ok Result");
    return std::get<1>(v_).message;
  }

 private:
  std::variant<T, Error> v_;
};

}  // namespace streamlab
