// MUT_CFG: named build-time constants with defaults in source that a user overrides without editing
// code (the original's mut_cfg! / use_mut_cfg!).
//
//   // config.hpp, included by the vDSO and by its callers
//   #include <vdsokit/mut_cfg.hpp>
//   #include "counter_mut_cfg.hpp"            // this build's overrides, written by vdsokit-gen
//   VDSOKIT_MUT_CFG(std::uint32_t, COUNTER_STEP, 1);
//   enum class counter_mode { fast, careful };
//   VDSOKIT_MUT_CFG(counter_mode, COUNTER_MODE, counter_mode::fast);
//
// `COUNTER_STEP` is then an ordinary `inline constexpr std::uint32_t`. At build time
// `vdsokit-gen mut-cfg` reads the environment variable of the same name (or a Meson option
// `NAME=VALUE`), checks that it parses as the declared type and is in range (naming the constant
// and the value if not), and writes the overrides header only when its content changes, so exactly
// the code that uses a changed constant is rebuilt. The vDSO and its callers include the same
// generated header, so they see the same value; the vDSO also records every value in an ELF note.
//
// Integers, bool and enums (by enumerator name) are supported. Use the macro at global scope.
#pragma once

#include <concepts>
#include <limits>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <vdsokit/note.hpp>

namespace vdsokit::detail {

struct no_mut_cfg_override {};

// An override as vdsokit-gen writes it: already validated, kept type-agnostic so the overrides
// header can be included before the types it configures are declared.
struct mut_cfg_override {
    bool negative;
    std::uint64_t magnitude;
};

// An enum override by enumerator name: `pick` returns `Enum::name` for the constant's declared
// enum, so the compiler, not vdsokit-gen, resolves the name (and refuses one the enum lacks).
template <class Pick>
struct mut_cfg_enumerator {
    Pick pick;
};
template <class Pick>
mut_cfg_enumerator(Pick) -> mut_cfg_enumerator<Pick>;

template <class T> struct is_mut_cfg_enumerator : std::false_type {};
template <class Pick> struct is_mut_cfg_enumerator<mut_cfg_enumerator<Pick>> : std::true_type {};

template <class T>
using mut_cfg_type = T;  // lets a multi-word type take a braced, non-narrowing initialiser

// Not constexpr on purpose: reaching it during constant evaluation is the error message.
inline void mut_cfg_override_is_out_of_range_for_the_declared_type() {}

template <class T, class Override>
consteval T resolve_mut_cfg(T default_value, Override override_value) {
    if constexpr (std::is_same_v<Override, no_mut_cfg_override>) {
        return default_value;
    } else if constexpr (is_mut_cfg_enumerator<Override>::value) {
        static_assert(std::is_enum_v<T>, "vdsokit: a MUT_CFG override names an enumerator, but the "
                                         "constant is not an enum.");
        return override_value.pick(std::type_identity<T>{});
    } else {
        static_assert(std::is_same_v<Override, mut_cfg_override>);
        if constexpr (std::is_same_v<T, bool>) {
            if (override_value.negative || override_value.magnitude > 1)
                mut_cfg_override_is_out_of_range_for_the_declared_type();
            return override_value.magnitude == 1;
        } else {
            static_assert(!std::is_enum_v<T>, "vdsokit: this MUT_CFG constant is an enum: override it "
                                              "with an enumerator name, not a number.");
            static_assert(std::is_integral_v<T>, "vdsokit: MUT_CFG supports integers, bool and enums.");
            using underlying = T;
            if (override_value.negative) {
                if constexpr (std::is_unsigned_v<underlying>) {
                    if (override_value.magnitude != 0)
                        mut_cfg_override_is_out_of_range_for_the_declared_type();
                    return static_cast<T>(0);
                } else {
                    if (override_value.magnitude >
                        std::uint64_t(std::numeric_limits<underlying>::max()) + 1)
                        mut_cfg_override_is_out_of_range_for_the_declared_type();
                    return static_cast<T>(static_cast<underlying>(-static_cast<std::int64_t>(
                        override_value.magnitude - 1) - 1));
                }
            }
            if (override_value.magnitude > std::uint64_t(std::numeric_limits<underlying>::max()))
                mut_cfg_override_is_out_of_range_for_the_declared_type();
            return static_cast<T>(static_cast<underlying>(override_value.magnitude));
        }
    }
}

template <class T>
consteval note::mut_cfg_kind mut_cfg_kind_of() {
    if constexpr (std::is_same_v<T, bool>) return note::mut_cfg_kind::boolean;
    else if constexpr (std::is_enum_v<T>) return note::mut_cfg_kind::enumeration;
    else if constexpr (std::is_signed_v<T>) return note::mut_cfg_kind::signed_integer;
    else return note::mut_cfg_kind::unsigned_integer;
}

// "NAME=VALUE" with VALUE in decimal; 21 characters hold any 64-bit value with its sign.
template <class T, std::size_t NameSize>
consteval auto make_mut_cfg_note(const char (&name)[NameSize], T value) noexcept {
    note::record<note::mut_cfg_description, NameSize + 22> record{};
    record.note_type = note::mut_cfg_value;
    record.description = {note::format_version, mut_cfg_kind_of<T>()};
    std::size_t at = 0;
    for (; at + 1 < NameSize; ++at) record.text[at] = name[at];
    record.text[at++] = '=';
    using underlying = typename std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>,
                                                   std::type_identity<T>>::type;
    const auto number = static_cast<underlying>(value);
    std::uint64_t magnitude = static_cast<std::uint64_t>(number);
    if constexpr (std::is_signed_v<underlying>) {
        if (number < 0) {
            record.text[at++] = '-';
            magnitude = ~static_cast<std::uint64_t>(number) + 1;
        }
    }
    char digits[20] = {};
    std::size_t count = 0;
    do {
        digits[count++] = static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    while (count != 0) record.text[at++] = digits[--count];
    return record;
}

}  // namespace vdsokit::detail

// Overrides live in ::vdsokit_mut_cfg; defaults in a namespace it nominates, so qualified lookup
// finds an override when one was declared and the default marker otherwise.
namespace vdsokit_mut_cfg_defaults {
inline constexpr bool overrides_included = false;
}
namespace vdsokit_mut_cfg {
using namespace ::vdsokit_mut_cfg_defaults;
}

#if defined(VDSOKIT_BUILDING_VDSO)
#define VDSOKIT_DETAIL_MUT_CFG_NOTE(name)                                                          \
    [[gnu::section(".vdsokit.notes"), gnu::used, gnu::visibility("hidden")]] alignas(4) inline constexpr auto \
        vdsokit_mut_cfg_note_##name = ::vdsokit::detail::make_mut_cfg_note(#name, name)
#else
#define VDSOKIT_DETAIL_MUT_CFG_NOTE(name) static_assert(true)
#endif

// Declares `inline constexpr type name`, `default_value` unless this build overrides it. At global
// scope, after this build's overrides header.
#define VDSOKIT_MUT_CFG(type, name, default_value)                                                 \
    static_assert(::vdsokit_mut_cfg::overrides_included,                                           \
                  "vdsokit: MUT_CFG " #name " is declared before this build's overrides header: "  \
                  "#include the <vdso>_mut_cfg.hpp that vdsokit-gen mut-cfg writes first");        \
    namespace vdsokit_mut_cfg_defaults {                                                           \
    inline constexpr ::vdsokit::detail::no_mut_cfg_override name{};                                \
    }                                                                                              \
    inline constexpr type name = ::vdsokit::detail::resolve_mut_cfg<type>(                         \
        ::vdsokit::detail::mut_cfg_type<type>{default_value}, ::vdsokit_mut_cfg::name);            \
    VDSOKIT_DETAIL_MUT_CFG_NOTE(name)
