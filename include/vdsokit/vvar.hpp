// vVAR: data shared by every address space that maps a vDSO (the original's VVAR_DATA).
//
//   struct clock_page { std::atomic<std::uint64_t> ticks; ... };   // in a header both sides see
//   VDSOKIT_VVAR(clock_page, clock_data);                          // at namespace scope
//
// In the vDSO build (VDSOKIT_BUILDING_VDSO, set by vdsokit's Meson recipe) this defines a hidden
// inline variable `clock_data` in the `.vdsokit.vvar` section, which the linker script places at
// address 0, below the image, in no segment. `clock_data.ticks.fetch_add(1)` is then one
// PC-relative instruction (GET_VVAR_DATA is simply the variable's name): no relocation and no
// run-time base computation, unlike the original, which scanned pages backwards for the ELF magic.
// It also records the type's layout fingerprint in a `.vdsokit.notes` section, which the linker script places in the PT_NOTE segment.
//
// Outside the vDSO build the macro only checks the type, so hosts can include the same header.
//
// One vVAR object per image: it is at offset 0 of the vVAR region, and a loader, a kernel and the
// fingerprint check all refer to it as "the" vVAR. Put everything shared in one struct; the
// post-link check refuses an image with two. The object is not initialised by the vDSO (its section
// is NOLOAD): whoever creates the vVAR region value-initialises it (`new (region) T{}`), so default
// member initialisers apply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <vdsokit/fingerprint.hpp>
#include <vdsokit/note.hpp>

namespace vdsokit {

template <class T>
concept vvar_type = std::is_class_v<T> && std::is_trivially_destructible_v<T> &&
                    std::is_default_constructible_v<T>;

namespace detail {

template <class T>
consteval void check_vvar_type() {
    static_assert(std::is_class_v<T>, "vdsokit: a vVAR object must be a struct; wrap scalars in one.");
    static_assert(std::is_trivially_destructible_v<T>,
                  "vdsokit: a vVAR type must be trivially destructible: nothing runs its destructor.");
    static_assert(std::is_default_constructible_v<T>,
                  "vdsokit: a vVAR type must be default constructible: its creator value-initialises it.");
    static_assert(alignof(T) <= 4096, "vdsokit: a vVAR type may be at most page aligned.");
    (void)layout_fingerprint<T>;  // refuses pointers, unions, non-lock-free atomics
}

template <class T, std::size_t NameSize>
consteval auto make_vvar_note(const char (&type_name)[NameSize]) noexcept {
    note::record<note::vvar_layout_description, NameSize> record{};
    record.note_type = note::vvar_layout;
    record.description = {note::format_version, static_cast<std::uint32_t>(sizeof(T)),
                          static_cast<std::uint32_t>(alignof(T)), 0,
                          static_cast<std::uint32_t>(layout_fingerprint<T>),
                          static_cast<std::uint32_t>(layout_fingerprint<T> >> 32)};
    for (std::size_t i = 0; i < NameSize; ++i) record.text[i] = type_name[i];
    return record;
}

}  // namespace detail
}  // namespace vdsokit

#if defined(VDSOKIT_BUILDING_VDSO)
// Defines the image's vVAR object `name` of type `type`, and its layout note.
#define VDSOKIT_VVAR(type, name)                                                                    \
    static_assert((::vdsokit::detail::check_vvar_type<type>(), true));                              \
    [[gnu::section(".vdsokit.vvar"), gnu::visibility("hidden")]] constinit inline type name{};      \
    [[gnu::section(".vdsokit.notes"), gnu::used, gnu::visibility("hidden")]] alignas(4) inline constexpr auto \
        vdsokit_vvar_note_##name = ::vdsokit::detail::make_vvar_note<type>(#type)
#else
#define VDSOKIT_VVAR(type, name) static_assert((::vdsokit::detail::check_vvar_type<type>(), true))
#endif
