// Layout fingerprints: a 64-bit hash of how a type is laid out in memory, computed at compile time.
//
// The vDSO and every address space that maps it must agree on the layout of the vVAR data, byte
// for byte. The vDSO records the fingerprint of its vVAR type in an ELF note; a loader computes the
// fingerprint of the type *it* was compiled with and refuses an image whose note differs.
//
// The hash covers, recursively: the type's size and alignment, and for every field (found with
// Boost.PFR) its offset, size, alignment and kind (signed/unsigned integer, float, bool, enum,
// atomic, array, struct). Field names are not covered: renaming a field keeps the layout.
//
// Use std::array, not C arrays, for array members: PFR cannot reflect a C array member.
//
// Field offsets are derived from the field types by the standard-layout rules, because C++20 gives
// no way to read them at compile time. A type whose real layout differs from those rules (a member
// declared `alignas(N)` or `[[no_unique_address]]`) is refused by a static_assert: give such a
// member a type that carries the alignment, e.g. `vdsokit::cache_aligned<U>`.
//
// A class that PFR cannot reflect (private members, base classes) opts in by declaring
//   static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept;
// and combining its parameters with `vdsokit::fingerprint_builder`.
//
// Freestanding: Boost.PFR core needs no runtime symbols.
#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

namespace vdsokit {

// FNV-1a over 64-bit words; constexpr so a fingerprint is a compile-time constant.
class fingerprint_builder {
public:
    constexpr fingerprint_builder& add(std::uint64_t word) noexcept {
        for (int byte = 0; byte < 8; ++byte) {
            state_ ^= (word >> (8 * byte)) & 0xffu;
            state_ *= 0x100000001b3ull;
        }
        return *this;
    }
    constexpr fingerprint_builder& add(const char* text) noexcept {
        for (; *text != '\0'; ++text) {
            state_ ^= static_cast<unsigned char>(*text);
            state_ *= 0x100000001b3ull;
        }
        return add(0xffu);
    }
    [[nodiscard]] constexpr std::uint64_t value() const noexcept { return state_; }

private:
    std::uint64_t state_ = 0xcbf29ce484222325ull;
};

// A value wrapped so that it starts on its own cache line; the alignment lives in the type, so
// fingerprints and PFR see it.
template <class T, std::size_t Alignment = 64>
struct alignas(Alignment) cache_aligned {
    T value;
};

namespace detail {

enum class layout_kind : std::uint64_t {
    boolean = 1, signed_integer, unsigned_integer, floating, enumeration, atomic, array,
    aggregate, custom, empty,
};

template <class T> struct is_std_atomic : std::false_type {};
template <class U> struct is_std_atomic<std::atomic<U>> : std::true_type { using value_type = U; };

template <class T>
concept declares_layout_fingerprint = requires {
    { T::vdsokit_layout_fingerprint() } -> std::same_as<std::uint64_t>;
};

template <class T>
concept reflectable_aggregate = std::is_class_v<T> && std::is_aggregate_v<T> && !std::is_union_v<T>;

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) noexcept {
    return (value + alignment - 1) / alignment * alignment;
}

template <class T> consteval std::uint64_t fingerprint_of() noexcept;

template <class T, std::size_t... I>
consteval std::uint64_t max_field_alignment(std::index_sequence<I...>) noexcept {
    std::uint64_t alignment = 1;
    ((alignment = alignof(boost::pfr::tuple_element_t<I, T>) > alignment
                      ? alignof(boost::pfr::tuple_element_t<I, T>)
                      : alignment),
     ...);
    return alignment;
}

template <class T> struct is_std_array : std::false_type {};
template <class U, std::size_t N> struct is_std_array<std::array<U, N>> : std::true_type {};

// Adds each field's offset (by the standard-layout rules) and fingerprint; returns the offset of
// the end of the last field.
template <class T, std::size_t... I>
constexpr std::uint64_t add_fields(fingerprint_builder& builder, std::index_sequence<I...>) noexcept {
    std::uint64_t offset = 0;
    ((offset = align_up(offset, alignof(boost::pfr::tuple_element_t<I, T>)),
      builder.add(offset).add(fingerprint_of<boost::pfr::tuple_element_t<I, T>>()),
      offset += sizeof(boost::pfr::tuple_element_t<I, T>)),
     ...);
    return offset;
}

template <class T>
consteval bool layout_follows_field_types() noexcept {
    fingerprint_builder scratch;
    using indices = std::make_index_sequence<boost::pfr::tuple_size_v<T>>;
    return align_up(add_fields<T>(scratch, indices{}), alignof(T)) == sizeof(T) &&
           max_field_alignment<T>(indices{}) <= alignof(T);
}

template <class T>
consteval std::uint64_t fingerprint_of() noexcept {
    static_assert(!std::is_pointer_v<T> && !std::is_member_pointer_v<T>,
                  "vdsokit: shared data must not hold pointers: every address space maps it at its "
                  "own base. Store an offset or an index instead.");
    static_assert(!std::is_reference_v<T>, "vdsokit: shared data must not hold references.");
    static_assert(!std::is_union_v<T>,
                  "vdsokit: unions have no reflectable layout; wrap the union in a class that "
                  "declares vdsokit_layout_fingerprint().");

    fingerprint_builder builder;
    builder.add(sizeof(T)).add(alignof(T));
    if constexpr (std::is_same_v<std::remove_cv_t<T>, bool>) {
        builder.add(std::uint64_t(layout_kind::boolean));
    } else if constexpr (std::is_integral_v<T>) {
        builder.add(std::uint64_t(std::is_signed_v<T> ? layout_kind::signed_integer
                                                      : layout_kind::unsigned_integer));
    } else if constexpr (std::is_floating_point_v<T>) {
        builder.add(std::uint64_t(layout_kind::floating));
    } else if constexpr (std::is_enum_v<T>) {
        builder.add(std::uint64_t(layout_kind::enumeration))
            .add(fingerprint_of<std::underlying_type_t<T>>());
    } else if constexpr (std::is_array_v<T>) {
        builder.add(std::uint64_t(layout_kind::array))
            .add(std::extent_v<T>)
            .add(fingerprint_of<std::remove_extent_t<T>>());
    } else if constexpr (is_std_array<std::remove_cv_t<T>>::value) {
        builder.add(std::uint64_t(layout_kind::array))
            .add(std::tuple_size_v<std::remove_cv_t<T>>)
            .add(fingerprint_of<typename T::value_type>());
    } else if constexpr (is_std_atomic<std::remove_cv_t<T>>::value) {
        static_assert(std::remove_cv_t<T>::is_always_lock_free,
                      "vdsokit: a std::atomic in shared data must be always lock-free: a lock-based "
                      "atomic is not address-free and breaks across address spaces.");
        builder.add(std::uint64_t(layout_kind::atomic))
            .add(fingerprint_of<typename is_std_atomic<std::remove_cv_t<T>>::value_type>());
    } else if constexpr (declares_layout_fingerprint<T>) {
        builder.add(std::uint64_t(layout_kind::custom)).add(T::vdsokit_layout_fingerprint());
    } else if constexpr (std::is_empty_v<T>) {
        builder.add(std::uint64_t(layout_kind::empty));
    } else if constexpr (reflectable_aggregate<T>) {
        using indices = std::make_index_sequence<boost::pfr::tuple_size_v<T>>;
        builder.add(std::uint64_t(layout_kind::aggregate)).add(boost::pfr::tuple_size_v<T>);
        add_fields<T>(builder, indices{});
        static_assert(layout_follows_field_types<T>(),
                      "vdsokit: this type's layout cannot be derived from its field types: a member "
                      "is declared alignas(N) or [[no_unique_address]]. Give that member a type "
                      "that carries the alignment, e.g. vdsokit::cache_aligned<U>.");
    } else {
        static_assert(declares_layout_fingerprint<T>,
                      "vdsokit: cannot fingerprint this type: it is not a scalar, enum, array, "
                      "std::atomic or aggregate. Declare static constexpr std::uint64_t "
                      "vdsokit_layout_fingerprint() noexcept in it.");
    }
    return builder.value();
}

}  // namespace detail

// The layout fingerprint of T. Equal fingerprints mean equal layouts (up to hash collisions).
template <class T>
inline constexpr std::uint64_t layout_fingerprint = detail::fingerprint_of<std::remove_cv_t<T>>();

}  // namespace vdsokit
