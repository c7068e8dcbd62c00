#pragma once

// A name a history op carries (producer, topic, subscription, key, broker, error,
// transaction): interned, so an op holds 4 bytes per name instead of a 32-byte string
// and a history of millions of ops is neither copied char by char when its vector grows
// nor several times larger than what it says. The few distinct names of a run are kept
// for the life of the process.
//
// A Name compares, orders and prints by its text, never by its number: numbers are given
// in the order names are first seen, which differs between threads (the capacity sweep
// runs scenarios side by side), so nothing a run reports may depend on them.

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace streamlab::workloads {

class Name {
 public:
  Name() = default;  // The empty name.
  Name(std::string_view text);  // NOLINT(google-explicit-constructor): a name is its text.
  Name(const std::string& text) : Name(std::string_view(text)) {}  // NOLINT
  Name(const char* text) : Name(std::string_view(text)) {}         // NOLINT

  const std::string& str() const;
  operator const std::string&() const { return str(); }  // NOLINT
  operator std::string_view() const { return str(); }    // NOLINT
  bool empty() const { return id_ == 0; }
  std::size_t size() const { return str().size(); }
  const char* c_str() const { return str().c_str(); }

  // Interning makes equal texts equal numbers.
  friend bool operator==(Name a, Name b) { return a.id_ == b.id_; }
  friend bool operator==(Name a, std::string_view b) { return a.str() == b; }
  friend bool operator==(Name a, const std::string& b) { return a.str() == b; }
  friend bool operator==(Name a, const char* b) { return a.str() == b; }
  friend std::strong_ordering operator<=>(Name a, Name b) {
    return a.id_ == b.id_ ? std::strong_ordering::equal : a.str().compare(b.str()) <=> 0;
  }
  friend std::string operator+(const std::string& a, Name b) { return a + b.str(); }
  friend std::string operator+(Name a, const std::string& b) { return a.str() + b; }
  friend std::string operator+(const char* a, Name b) { return a + b.str(); }
  friend std::string operator+(Name a, const char* b) { return a.str() + b; }
  friend std::ostream& operator<<(std::ostream& out, Name n) { return out << n.str(); }

 private:
  std::uint32_t id_ = 0;
};

}  // namespace streamlab::workloads

// By text, like the number-free comparisons: an unordered container of names behaves as
// one of strings.
template <>
struct std::hash<streamlab::workloads::Name> {
  std::size_t operator()(streamlab::workloads::Name n) const noexcept {
    return std::hash<std::string>()(n.str());
  }
};
