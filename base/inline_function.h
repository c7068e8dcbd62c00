#pragma once

// A move-only callable stored inline, never on the heap. The event queue holds one per
// pending event; std::function may allocate for captures above 16 bytes, and an
// allocation per event is what makes simulators slow. 32 bytes hold `this` plus a few
// ids, which is what event callbacks capture; with the rest of an event that makes one
// 64-byte cache line per pending event. Bigger state belongs in the node, not the capture.

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "base/assert.h"

namespace streamlab {

template <typename Signature, std::size_t Capacity = 32>
class InlineFunction;

template <typename R, typename... Args, std::size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
 public:
  InlineFunction() = default;

  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineFunction>>>
  InlineFunction(F&& f) {  // NOLINT(google-explicit-constructor): used like std::function.
    using Fn = std::decay_t<F>;
    static_assert(sizeof(Fn) <= Capacity, "capture too large for InlineFunction");
    static_assert(alignof(Fn) <= alignof(void*), "over-aligned capture");
    static_assert(std::is_nothrow_move_constructible_v<Fn>, "capture must move nothrow");
    new (storage_) Fn(std::forward<F>(f));
    ops_ = &ops_for<Fn>;
  }

  InlineFunction(InlineFunction&& other) noexcept { move_from(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      reset();
      move_from(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  R operator()(Args... args) {
    SL_ASSERT_MSG(ops_ != nullptr, "calling an empty InlineFunction");
    return ops_->invoke(storage_, std::forward<Args>(args)...);
  }

  void reset() {
    if (ops_ != nullptr) {
      if (!ops_->trivial) ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    R (*invoke)(void*, Args&&...);
    void (*move)(void* dst, void* src);
    void (*destroy)(void*);
    // Captures of pointers and ids (nearly all) move by memcpy and need no destructor:
    // two indirect calls fewer per event on the kernel's hot path.
    bool trivial;
  };

  template <typename Fn>
  static constexpr Ops ops_for = {
      [](void* p, Args&&... args) -> R {
        return (*static_cast<Fn*>(p))(std::forward<Args>(args)...);
      },
      [](void* dst, void* src) {
        new (dst) Fn(std::move(*static_cast<Fn*>(src)));
        static_cast<Fn*>(src)->~Fn();
      },
      [](void* p) { static_cast<Fn*>(p)->~Fn(); },
      std::is_trivially_copyable_v<Fn>,
  };

  void move_from(InlineFunction& other) {
    if (other.ops_ != nullptr) {
      if (other.ops_->trivial) {
        std::memcpy(storage_, other.storage_, Capacity);
      } else {
        other.ops_->move(storage_, other.storage_);
      }
      ops_ = other.ops_;
      other.ops_ = nullptr;
    }
  }

  alignas(void*) unsigned char storage_[Capacity];
  const Ops* ops_ = nullptr;
};

}  // namespace streamlab
