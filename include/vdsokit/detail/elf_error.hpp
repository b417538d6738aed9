// Errors of the ELF reader as values, and `describe()` that turns one into a sentence.
//
// An error records which structure was wrong (program header 2, dynamic entry 5, ...), which
// field, the file offset of that field or structure, and the expected and found values, so the
// message can say e.g. `program header 2: p_offset + p_filesz = 0x5000 exceeds file size 0x3000
// (at file offset 0xb0)`. Formatting is freestanding: hex and decimal by hand, no printf.
//
// Included by `vdsokit/elf.hpp`; use that header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace vdsokit::elf {

// What kind of rule a file broke; `describe()` picks the sentence from it.
enum class error_code : std::uint8_t {
    file_too_small,           // the file is shorter than a structure it must hold
    bad_value,                // field = found, expected `expected`
    exceeds,                  // field = found exceeds `limit` `expected`
    below,                    // field = found is below `limit` `expected`
    not_multiple,             // field = found is not a multiple of `expected`
    not_power_of_two,         // field = found is not a power of two
    writable_and_executable,  // a segment is both W and X
    text_relocations,         // DT_TEXTREL or DF_TEXTREL
    unsupported_relocation,   // relocation type `found` at offset `expected`
    unmapped_address,         // field = found (size `expected`) is outside every PT_LOAD's file bytes
    missing,                  // a required structure or entry is absent
    duplicate,                // a structure that must be unique appears twice
    unsupported_feature,      // valid ELF, but not something vdsokit handles
    not_terminated,           // a string table does not end with NUL
    read_only_relocation,     // a relocation targets a segment that is not writable
    too_many,                 // field = found exceeds the maximum `expected`
};

// Which structure of the file the error is about.
enum class error_structure : std::uint8_t {
    elf_header,
    program_header,
    section_header,
    dynamic_table,
    dynamic_entry,
    string_table,
    dynamic_symbol,
    symbol,
    sysv_hash_table,
    gnu_hash_table,
    version_symbol_table,
    version_definition,
    relocation,
    note,
    load_plan,
};

struct error {
    static constexpr std::uint32_t no_index = 0xffffffffu;

    error_code code = error_code::bad_value;
    error_structure structure = error_structure::elf_header;
    std::uint32_t index = no_index;  // which program header, section, entry ...; no_index if unique
    const char* field = "";          // the field or expression, e.g. "p_offset + p_filesz"
    std::uint64_t offset = 0;        // file offset of the field or structure
    std::uint64_t expected = 0;      // the limit or the expected value
    std::uint64_t found = 0;         // the value found in the file
    const char* limit = "";          // what `expected` is, e.g. "file size"; may be empty
    const char* reason = "";         // why the rule exists, appended after a colon; may be empty
};

namespace detail {

// Appends to a caller's buffer, always NUL-terminated, counting what would have been written.
class text_writer {
public:
    constexpr text_writer(char* buffer, std::size_t capacity) noexcept
        : buffer_(buffer), capacity_(capacity) {}

    constexpr text_writer& text(const char* s) noexcept {
        if (s)
            while (*s) put(*s++);
        return *this;
    }
    constexpr text_writer& hex(std::uint64_t value) noexcept {
        text("0x");
        int shift = 60;
        while (shift > 0 && ((value >> shift) & 0xf) == 0) shift -= 4;
        for (; shift >= 0; shift -= 4) put("0123456789abcdef"[(value >> shift) & 0xf]);
        return *this;
    }
    constexpr text_writer& decimal(std::uint64_t value) noexcept {
        char digits[20] = {};
        int count = 0;
        do {
            digits[count++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        while (count > 0) put(digits[--count]);
        return *this;
    }
    // Number of characters of the full message, even if the buffer was too small.
    constexpr std::size_t finish() noexcept {
        if (capacity_ != 0) buffer_[written_ < capacity_ ? written_ : capacity_ - 1] = '\0';
        return written_;
    }

private:
    constexpr void put(char c) noexcept {
        if (written_ + 1 < capacity_) buffer_[written_] = c;
        ++written_;
    }
    char* buffer_;
    std::size_t capacity_;
    std::size_t written_ = 0;
};

constexpr const char* structure_name(error_structure structure) noexcept {
    switch (structure) {
        case error_structure::elf_header: return "ELF header";
        case error_structure::program_header: return "program header";
        case error_structure::section_header: return "section header";
        case error_structure::dynamic_table: return "dynamic table";
        case error_structure::dynamic_entry: return "dynamic entry";
        case error_structure::string_table: return "string table";
        case error_structure::dynamic_symbol: return "dynamic symbol";
        case error_structure::symbol: return "symbol";
        case error_structure::sysv_hash_table: return "SysV hash table";
        case error_structure::gnu_hash_table: return "GNU hash table";
        case error_structure::version_symbol_table: return "version symbol table";
        case error_structure::version_definition: return "version definition";
        case error_structure::relocation: return "relocation";
        case error_structure::note: return "note";
        case error_structure::load_plan: return "load plan";
    }
    return "ELF file";
}

}  // namespace detail

// Writes a one-line English description of `failure` into `buffer` (always NUL-terminated when
// capacity > 0) and returns the length of the full message, like snprintf.
constexpr std::size_t describe(const error& failure, char* buffer, std::size_t capacity) noexcept {
    detail::text_writer out(buffer, capacity);
    out.text(detail::structure_name(failure.structure));
    if (failure.index != error::no_index) out.text(" ").decimal(failure.index);
    out.text(": ");
    const bool has_limit = failure.limit && *failure.limit;
    switch (failure.code) {
        case error_code::file_too_small:
            out.text("file size ").hex(failure.found).text(" is smaller than ");
            out.text(has_limit ? failure.limit : "required").text(" ").hex(failure.expected);
            break;
        case error_code::bad_value:
            out.text(failure.field).text(" = ").hex(failure.found).text(", expected ");
            out.hex(failure.expected);
            if (has_limit) out.text(" (").text(failure.limit).text(")");
            break;
        case error_code::exceeds:
            out.text(failure.field).text(" = ").hex(failure.found).text(" exceeds ");
            if (has_limit) out.text(failure.limit).text(" ");
            out.hex(failure.expected);
            break;
        case error_code::below:
            out.text(failure.field).text(" = ").hex(failure.found).text(" is below ");
            if (has_limit) out.text(failure.limit).text(" ");
            out.hex(failure.expected);
            break;
        case error_code::not_multiple:
            out.text(failure.field).text(" = ").hex(failure.found).text(" is not a multiple of ");
            out.hex(failure.expected);
            if (has_limit) out.text(" (").text(failure.limit).text(")");
            break;
        case error_code::not_power_of_two:
            out.text(failure.field).text(" = ").hex(failure.found).text(" is not a power of two");
            break;
        case error_code::writable_and_executable:
            out.text(failure.field).text(" = ").hex(failure.found);
            out.text(" makes the segment both writable and executable");
            break;
        case error_code::text_relocations:
            out.text(failure.field).text(" = ").hex(failure.found);
            out.text(" requests text relocations, which a shared image cannot have");
            break;
        case error_code::unsupported_relocation:
            out.text("unsupported relocation type ").decimal(failure.found).text(" at offset ");
            out.hex(failure.expected);
            if (has_limit) out.text(" (").text(failure.limit).text(")");
            break;
        case error_code::unmapped_address:
            out.text(failure.field).text(" = ").hex(failure.found).text(" (size ");
            out.hex(failure.expected).text(") is not inside the file bytes of any PT_LOAD");
            break;
        case error_code::missing:
            out.text(failure.field).text(" is missing");
            if (has_limit) out.text(" (").text(failure.limit).text(")");
            break;
        case error_code::duplicate:
            out.text(failure.field).text(" appears more than once");
            break;
        case error_code::unsupported_feature:
            out.text(failure.field).text(" = ").hex(failure.found).text(" is not supported");
            if (has_limit) out.text(" (").text(failure.limit).text(")");
            break;
        case error_code::not_terminated:
            out.text(failure.field).text(" = ").hex(failure.found);
            out.text(", expected 0 (the table must end with NUL)");
            break;
        case error_code::read_only_relocation:
            out.text(failure.field).text(" at offset ").hex(failure.found);
            out.text(" targets a segment that is not writable");
            break;
        case error_code::too_many:
            out.text(failure.field).text(" = ").decimal(failure.found).text(" exceeds the maximum ");
            out.decimal(failure.expected);
            break;
    }
    if (failure.reason && *failure.reason) out.text(": ").text(failure.reason);
    out.text(" (at file offset ").hex(failure.offset).text(")");
    return out.finish();
}

namespace detail {
struct build_in_place_t {
    explicit build_in_place_t() = default;
};
}  // namespace detail

// A value or the error that prevented it. Freestanding: `value()` on a failed result is a
// precondition violation, never an exception or abort.
//
// Producers (`image::parse`, `make_load_plan`) build the value in place through
// `result(build_in_place)` and `value_being_built()`: the values are a few hundred bytes, and
// copying them would make Clang call memcpy, which a freestanding user may not have.
template <class T>
class result {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                  "vdsokit: result<T> holds plain data only; make T trivially copyable");

public:
    constexpr result(const T& value) noexcept : value_(value), ok_(true) {}
    constexpr result(const error& failure) noexcept : failure_(failure), ok_(false) {}
    constexpr explicit result(detail::build_in_place_t) noexcept : value_(), ok_(true) {}

    constexpr bool ok() const noexcept { return ok_; }
    constexpr explicit operator bool() const noexcept { return ok_; }
    constexpr const T& value() const noexcept { return value_; }
    constexpr const error& failure() const noexcept { return failure_; }

    // For producers only: the value under construction, and turning the result into an error.
    constexpr T& value_being_built() noexcept { return value_; }
    constexpr void set_failure(const error& failure) noexcept {
        failure_ = failure;
        ok_ = false;
    }

private:
    union {
        T value_;
        error failure_;
    };
    bool ok_;
};

inline constexpr detail::build_in_place_t build_in_place{};

}  // namespace vdsokit::elf
