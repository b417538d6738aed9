// Dispatch tables: the API of one vDSO as one address space sees it.
//
// vdsokit-gen writes, for a vDSO named `counter`, `counter_api.hpp` with
//
//   namespace counter_vdso {
//   inline constexpr vdsokit::image_facts facts{...};      // vVAR size, fingerprint, ...
//   struct symbol_offsets { static constexpr std::uintptr_t counter_add = 0x...; ... };
//   struct dispatch_table {
//       decltype(&::counter_add) counter_add;               // typed by the declaration itself
//       static dispatch_table bind(const void* image_base) noexcept;
//   };
//   }
//
// An address space maps the image wherever it likes and binds its own table to that base; calls
// then cost one indirect call. This header holds the small pieces those generated files share.
// Freestanding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

namespace vdsokit {

struct image_facts {
    const char* name;
    std::uint64_t vvar_size;         // bytes of vVAR below the image base
    std::uint64_t image_size;        // bytes from the image base to the end of the last segment
    std::uint64_t vvar_fingerprint;  // layout_fingerprint of the image's vVAR type, 0 if none
    const char* vvar_type;           // the vVAR type as the vDSO source named it
};

// A MUT_CFG value as the image recorded it: decimal text (enums by their underlying value), so
// every 64-bit value of either signedness fits.
struct mut_cfg_entry {
    const char* name;
    const char* value;
};

// The function at `offset` bytes from the image base, typed as the API declares it.
template <class FunctionPointer>
FunctionPointer function_at(const void* image_base, std::uintptr_t offset) noexcept {
    static_assert(std::is_pointer_v<FunctionPointer> &&
                      std::is_function_v<std::remove_pointer_t<FunctionPointer>>,
                  "vdsokit: a dispatch table member must be a function pointer.");
    return reinterpret_cast<FunctionPointer>(reinterpret_cast<std::uintptr_t>(image_base) + offset);
}

namespace detail {
template <class Table, std::size_t... I>
consteval bool all_function_pointers(std::index_sequence<I...>) {
    return (... && (std::is_pointer_v<boost::pfr::tuple_element_t<I, Table>> &&
                    std::is_function_v<std::remove_pointer_t<boost::pfr::tuple_element_t<I, Table>>>));
}
}  // namespace detail

// A generated table: an aggregate of function pointers only (checked field by field with PFR).
template <class Table>
concept is_dispatch_table =
    std::is_aggregate_v<Table> && boost::pfr::tuple_size_v<Table> != 0 &&
    detail::all_function_pointers<Table>(std::make_index_sequence<boost::pfr::tuple_size_v<Table>>{});

// True if every entry of a bound table points into [image_base, image_base + image_size).
template <class Table>
    requires is_dispatch_table<Table>
bool table_within(const Table& table, const void* image_base, std::uint64_t image_size) noexcept {
    const auto begin = reinterpret_cast<std::uintptr_t>(image_base);
    bool inside = true;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((inside = inside && reinterpret_cast<std::uintptr_t>(boost::pfr::get<I>(table)) >= begin &&
                   reinterpret_cast<std::uintptr_t>(boost::pfr::get<I>(table)) < begin + image_size),
         ...);
    }(std::make_index_sequence<boost::pfr::tuple_size_v<Table>>{});
    return inside;
}

}  // namespace vdsokit
