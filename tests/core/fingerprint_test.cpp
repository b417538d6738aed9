// Layout fingerprints: equal for equal layouts, different as soon as a layout changes.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstdint>

#include <vdsokit/fingerprint.hpp>
#include <vdsokit/seqlock.hpp>

namespace {
struct inner {
    std::uint32_t a;
    std::uint16_t b;
};
struct inner_renamed {  // inner's layout under other names
    std::uint32_t first;
    std::uint16_t second;
};
struct layout_v1 {
    std::atomic<std::uint64_t> counter;
    inner nested;
    std::array<std::int32_t, 4> slots;
};
struct layout_v1_renamed {  // same layout, other names: same fingerprint
    std::atomic<std::uint64_t> total;
    inner pair;
    std::array<std::int32_t, 4> values;
};
struct inner_wider {
    std::uint32_t a;
    std::uint32_t b;
};
struct layout_nested_field_changed {
    std::atomic<std::uint64_t> counter;
    inner_wider nested;
    std::array<std::int32_t, 4> slots;
};
struct layout_signedness_changed {
    std::atomic<std::uint64_t> counter;
    inner nested;
    std::array<std::uint32_t, 4> slots;
};
struct layout_count_changed {
    std::atomic<std::uint64_t> counter;
    inner nested;
    std::array<std::int32_t, 5> slots;
};
struct layout_reordered {
    inner nested;
    std::atomic<std::uint64_t> counter;
    std::array<std::int32_t, 4> slots;
};
struct layout_atomic_removed {
    std::uint64_t counter;
    inner nested;
    std::array<std::int32_t, 4> slots;
};
struct layout_cache_aligned {
    vdsokit::cache_aligned<std::atomic<std::uint64_t>> head;
    vdsokit::cache_aligned<std::atomic<std::uint64_t>> tail;
};
enum class small_enum : std::uint8_t { a };
enum class wide_enum : std::uint32_t { a };
struct with_small_enum { small_enum e; };
struct with_wide_enum { wide_enum e; };
}  // namespace

using vdsokit::layout_fingerprint;

TEST_CASE("the fingerprint is a compile-time constant, pinned so images stay compatible across versions") {
    // An image records this value; a host built with another vdsokit version must compute the same
    // one for the same layout, so the algorithm may not drift. Same value with GCC and Clang.
#if defined(__x86_64__) || defined(__aarch64__) || (defined(__riscv) && __riscv_xlen == 64)
    static_assert(layout_fingerprint<layout_v1> == 0x8ae242b2be090935ull);
#endif
    CHECK(layout_fingerprint<layout_v1> == layout_fingerprint<const layout_v1>);
}

TEST_CASE("renaming fields keeps the fingerprint: it covers layout, not names") {
    CHECK(layout_fingerprint<layout_v1> == layout_fingerprint<layout_v1_renamed>);
}

TEST_CASE("any change of size, type, order, count or nesting changes the fingerprint") {
    const std::uint64_t base = layout_fingerprint<layout_v1>;
    CHECK(base != layout_fingerprint<layout_nested_field_changed>);
    CHECK(base != layout_fingerprint<layout_signedness_changed>);
    CHECK(base != layout_fingerprint<layout_count_changed>);
    CHECK(base != layout_fingerprint<layout_reordered>);
    CHECK(base != layout_fingerprint<layout_atomic_removed>);
    CHECK(layout_fingerprint<with_small_enum> != layout_fingerprint<with_wide_enum>);
}

TEST_CASE("cache-aligned members are fingerprinted with their real offsets") {
    static_assert(sizeof(layout_cache_aligned) == 128);
    CHECK(layout_fingerprint<layout_cache_aligned> != layout_fingerprint<vdsokit::cache_aligned<std::atomic<std::uint64_t>>>);
}

TEST_CASE("classes PFR cannot reflect take part through vdsokit_layout_fingerprint") {
    CHECK(layout_fingerprint<vdsokit::seqlock<layout_atomic_removed>> != layout_fingerprint<vdsokit::seqlock<inner>>);
    CHECK(layout_fingerprint<vdsokit::seqlock<inner>> == layout_fingerprint<vdsokit::seqlock<inner_renamed>>);
}
