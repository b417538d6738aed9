// What the deques share: the names of the ends and batch modes, the back-off after a failed CAS,
// and small elements as 64-bit words. Freestanding.
#pragma once

#include <cstdint>

#include <vdsokit/detail/backoff.hpp>

namespace vdsokit {

enum class deque_end : std::uint8_t { front, back };

// bulk: all of the batch or nothing. burst: as many as fit (or as are there).
enum class batch_mode : std::uint8_t { bulk, burst };

}  // namespace vdsokit

namespace vdsokit::detail {

// Elements of at most 8 bytes travel as the bits of one 64-bit word (a cell's value half).
template <class T>
std::uint64_t to_word_bits(const T& value) noexcept {
    static_assert(sizeof(T) <= 8);
    std::uint64_t bits = 0;
    __builtin_memcpy(&bits, &value, sizeof(T));
    return bits;
}
template <class T>
T from_word_bits(std::uint64_t bits) noexcept {
    static_assert(sizeof(T) <= 8);
    T value;
    __builtin_memcpy(&value, &bits, sizeof(T));
    return value;
}

}  // namespace vdsokit::detail
