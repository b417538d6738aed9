// What to map for a validated vDSO image, computed from its ELF headers: pure data, no mmap.
//
// `make_load_plan` turns an `elf::image` into the types of `vdsokit/image.hpp`: the vVAR span
// below the image base, one `segment_mapping` per PT_LOAD (offsets relative to the image base,
// page-rounded), and the R_*_RELATIVE relocations that the private (writable) copy needs. It
// also enforces what vDSO clients silently depend on: every PT_LOAD has the same
// p_vaddr - p_offset (glibc and musl each derive the load bias from a different PT_LOAD), the
// first PT_LOAD holds the ELF header at file offset 0 (that is the image base, AT_SYSINFO_EHDR),
// the vVAR size is a page multiple, mappings do not share pages, and the only dynamic relocations
// are RELATIVE ones into writable segments (nothing may write to shared pages).
//
// DT_RELR (packed relative relocations, `-z pack-relative-relocs`) is supported: its implicit
// addends are read from the file at plan time.
//
// A kernel or loader then: reserves vvar_size() + image_size() bytes, maps vVAR at the bottom,
// maps each segment at image_base + image_offset (shared ones straight from the file pages,
// private ones as a copy of `file_size` bytes followed by zeros), and calls `apply_relocations`
// on the private copy.
//
// Storage is fixed: up to `load_plan::max_segments` mappings in the plan itself; relocations are
// read lazily from the image's relocation tables (the plan keeps a small view of them, so the
// file bytes must outlive the plan) or copied into a caller-provided span.
//
// Freestanding: no heap, exceptions, RTTI or libc.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "elf.hpp"
#include "image.hpp"

namespace vdsokit {

class load_plan {
public:
    static constexpr std::size_t max_segments = 8;

    // User-provided so that building a plan in place does not zero the whole segment array.
    constexpr load_plan() noexcept {}

    constexpr std::uint64_t vvar_size() const noexcept { return vvar_size_; }
    // Bytes from the image base to the end of the last mapping.
    constexpr std::uint64_t image_size() const noexcept { return image_size_; }
    // The vVAR region, relative to the image base: [-vvar_size, 0).
    constexpr std::int64_t vvar_offset() const noexcept { return -static_cast<std::int64_t>(vvar_size_); }
    constexpr elf::machine target() const noexcept { return target_; }

    // One mapping per PT_LOAD, in address order. `file_size` is exact (the bytes to take from the
    // file, counted from the page-aligned `file_offset`); the rest of `memory_size` is zero-filled.
    constexpr std::span<const segment_mapping> segments() const noexcept {
        return {segments_.data(), segment_count_};
    }

    // Number of RELATIVE relocations (R_*_NONE entries are skipped).
    constexpr std::size_t relocation_count() const noexcept { return relocation_count_; }

    // Visits each RELATIVE relocation as a `relative_relocation`; the visitor may return void or
    // bool (false = stop).
    template <class F>
    constexpr void for_each_relocation(F&& visitor) const {
        const std::uint32_t relative = elf::relative_relocation_type(target_);
        relocations_.for_each([&](const elf::relocation& r) {
            if (r.type != relative) return true;
            return elf::detail::visit(visitor, to_image_relative(r));
        });
    }

    // Copies up to out.size() relocations; returns how many were written.
    constexpr std::size_t copy_relocations(std::span<relative_relocation> out) const noexcept {
        std::size_t written = 0;
        for_each_relocation([&](const relative_relocation& r) {
            if (written == out.size()) return false;
            out[written++] = r;
            return true;
        });
        return written;
    }

private:
    friend elf::result<load_plan> make_load_plan(const elf::image&) noexcept;

    constexpr relative_relocation to_image_relative(const elf::relocation& r) const noexcept {
        // The image base sits at link-time address vvar_size, so both the place and the value
        // shift down by it; a pointer into vVAR gets a negative value offset.
        // Unsigned arithmetic: make_load_plan bounds both, but a plan is plain data and must not
        // overflow even on nonsense.
        return {r.offset - vvar_size_,
                static_cast<std::int64_t>(static_cast<std::uint64_t>(r.addend) - vvar_size_)};
    }

    std::array<segment_mapping, max_segments> segments_;  // the first segment_count_ are set
    std::size_t segment_count_ = 0;
    std::size_t relocation_count_ = 0;
    std::uint64_t vvar_size_ = 0;
    std::uint64_t image_size_ = 0;
    elf::relocation_table relocations_{};
    elf::machine target_ = elf::native_machine;
};

// Computes the plan for a parsed image, or the error that makes it unmappable as a vDSO.
inline elf::result<load_plan> make_load_plan(const elf::image& image) noexcept {
    using elf::error_code;
    using elf::error_structure;
    using elf::detail::make_error;
    constexpr std::uint64_t page_mask = page_size - 1;

    elf::result<load_plan> out(elf::build_in_place);
    load_plan& plan = out.value_being_built();
    plan.target_ = image.target();
    plan.vvar_size_ = image.vvar_size();
    plan.image_size_ = image.image_size();
    plan.relocations_ = image.relocations();

    const std::uint64_t phoff = [&] {
        const auto bytes = image.bytes();
        return elf::detail::byte_reader(bytes).u64(elf::detail::e_phoff);
    }();
    auto header_offset = [&](std::uint32_t index, std::uint64_t field) {
        return phoff + std::uint64_t{index} * elf::detail::program_header_size + field;
    };

    if (image.vvar_size() & page_mask) {
        out.set_failure(make_error(error_code::not_multiple, error_structure::load_plan,
                                   elf::error::no_index, "vVAR size (p_vaddr of the first PT_LOAD)",
                                   phoff, page_size, image.vvar_size(), "the page size"));
        return out;
    }

    bool first = true, failed = false;
    std::uint64_t bias = 0, previous_end = 0;
    image.for_each_segment([&](const elf::segment& s) {
        auto fail = [&](const elf::error& e) {
            out.set_failure(e);
            failed = true;
            return false;
        };
        if (s.type == elf::detail::pt_interp)
            return fail(make_error(error_code::unsupported_feature, error_structure::program_header,
                                   s.index, "p_type", header_offset(s.index, elf::detail::p_type),
                                   0, s.type, "PT_INTERP",
                                   "this is an executable, not a vDSO"));
        if (s.type != elf::detail::pt_load) return true;
        if (first) {
            if (s.offset != 0)
                return fail(make_error(error_code::bad_value, error_structure::program_header,
                                       s.index, "p_offset of the first PT_LOAD",
                                       header_offset(s.index, elf::detail::p_offset), 0, s.offset,
                                       "", "it must hold the ELF header, which is the image base"));
            bias = s.vaddr - s.offset;
        } else if (s.vaddr - s.offset != bias) {
            return fail(make_error(error_code::bad_value, error_structure::program_header, s.index,
                                   "p_vaddr - p_offset",
                                   header_offset(s.index, elf::detail::p_vaddr), bias,
                                   s.vaddr - s.offset, "as for the first PT_LOAD",
                                   "glibc and musl derive the load bias from different PT_LOADs, "
                                   "so all must agree"));
        }
        if (plan.segment_count_ == load_plan::max_segments)
            return fail(make_error(error_code::too_many, error_structure::load_plan, s.index,
                                   "PT_LOAD count", header_offset(s.index, 0),
                                   load_plan::max_segments, image.load_segment_count()));
        const std::uint64_t start = s.vaddr & ~page_mask;
        const std::uint64_t end = (s.vaddr + s.memory_size + page_mask) & ~page_mask;
        if (!first && start < previous_end)
            return fail(make_error(error_code::below, error_structure::program_header, s.index,
                                   "page-rounded p_vaddr",
                                   header_offset(s.index, elf::detail::p_vaddr), previous_end, start,
                                   "the page-rounded end of the previous PT_LOAD",
                                   "segments with different permissions cannot share a page"));
        segment_mapping& m = plan.segments_[plan.segment_count_++];
        m.image_offset = start - plan.vvar_size_;
        m.file_offset = s.offset & ~page_mask;
        m.file_size = s.offset + s.file_size - m.file_offset;
        m.memory_size = end - start;
        m.flags = s.flags & (segment_read | segment_write | segment_execute);
        m.shared = (s.flags & segment_write) == 0;
        previous_end = end;
        first = false;
        return true;
    });
    if (failed) return out;

    // Only RELATIVE relocations, and only into writable segments: anything else would need
    // symbol resolution or a write to pages shared by every address space.
    const std::uint32_t relative = elf::relative_relocation_type(image.target());
    std::uint32_t number = 0;
    image.for_each_relocation([&](const elf::relocation& r) {
        const std::uint32_t index = number++;
        if (r.type == 0) return true;
        if (r.type != relative) {
            out.set_failure(make_error(error_code::unsupported_relocation, error_structure::relocation,
                                       index, "r_info", r.file_offset + 8, r.offset, r.type, "",
                                       "a vDSO may only have RELATIVE relocations; give symbols "
                                       "hidden visibility or link with -Bsymbolic"));
            failed = true;
            return false;
        }
        bool writable = false, mapped = false;
        image.for_each_segment([&](const elf::segment& s) {
            if (s.type != elf::detail::pt_load || r.offset < s.vaddr ||
                r.offset - s.vaddr > s.memory_size || s.memory_size - (r.offset - s.vaddr) < 8)
                return true;
            mapped = true;
            writable = (s.flags & elf::detail::pf_w) != 0;
            return false;
        });
        if (!mapped || !writable) {
            out.set_failure(make_error(mapped ? error_code::read_only_relocation : error_code::unmapped_address,
                                       error_structure::relocation, index,
                                       mapped ? "RELATIVE relocation" : "r_offset", r.file_offset,
                                       8, r.offset));
            failed = true;
            return false;
        }
        // The value must point into the image (vVAR included, one past the end allowed):
        // anything else is garbage that would become a wild pointer in every process.
        const auto target = static_cast<std::uint64_t>(r.addend);
        if (target > plan.vvar_size_ + plan.image_size_) {
            out.set_failure(make_error(error_code::exceeds, error_structure::relocation, index,
                                       "r_addend", r.file_offset, plan.vvar_size_ + plan.image_size_,
                                       target, "the end of the image"));
            failed = true;
            return false;
        }
        ++plan.relocation_count_;
        return true;
    });
    return out;
}

namespace detail {
inline void store_little_endian_u64(std::byte* at, std::uint64_t value) noexcept {
    for (int i = 0; i < 8; ++i) at[i] = static_cast<std::byte>(value >> (8 * i));
}
}  // namespace detail

// Applies the plan's relocations to a writable view of the whole image: `image_memory[0]` is the
// byte at the image base (which will be mapped at `image_base_address` in the target address
// space). Returns the number applied; relocations outside `image_memory` are skipped, so a result
// below `plan.relocation_count()` means the view was too small.
inline std::size_t apply_relocations(const load_plan& plan, std::uint64_t image_base_address,
                                     std::span<std::byte> image_memory) noexcept {
    std::size_t applied = 0;
    plan.for_each_relocation([&](const relative_relocation& r) {
        if (r.image_offset > image_memory.size() || image_memory.size() - r.image_offset < 8) return;
        detail::store_little_endian_u64(image_memory.data() + r.image_offset,
                                        image_base_address + static_cast<std::uint64_t>(r.value_offset));
        ++applied;
    });
    return applied;
}

// The same for one private segment copied on its own: `segment_memory[0]` is the first byte of
// `segment` (at image_base_address + segment.image_offset). Relocations of other segments are
// ignored; returns the number applied to this one.
inline std::size_t apply_relocations(const load_plan& plan, std::uint64_t image_base_address,
                                     const segment_mapping& segment,
                                     std::span<std::byte> segment_memory) noexcept {
    std::size_t applied = 0;
    plan.for_each_relocation([&](const relative_relocation& r) {
        if (r.image_offset < segment.image_offset) return;
        const std::uint64_t into = r.image_offset - segment.image_offset;
        if (into > segment.memory_size || segment.memory_size - into < 8) return;
        if (into > segment_memory.size() || segment_memory.size() - into < 8) return;
        detail::store_little_endian_u64(segment_memory.data() + into,
                                        image_base_address + static_cast<std::uint64_t>(r.value_offset));
        ++applied;
    });
    return applied;
}

// The image offset of an exported symbol (its address minus the image base), for embedding.
inline bool find_symbol_offset(const elf::image& image, elf::name_view name,
                               elf::name_view version, std::uint64_t& image_offset) noexcept {
    elf::symbol found{};
    if (!image.lookup(name, version, found)) return false;
    image_offset = found.value - image.vvar_size();
    return true;
}

}  // namespace vdsokit
