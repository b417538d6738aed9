// The test images the ELF tests share, read once and kept alive for the whole run: an image is
// only a view of its bytes. Paths come from the environment Meson sets for the tests.
#pragma once

#include <catch2/catch.hpp>

#include "elf_test_support.hpp"

namespace vdsokit::elf::testing {

inline const bytes& sample_from(const char* variable) {
    static std::map<std::string, bytes> files;
    auto [it, fresh] = files.try_emplace(variable);
    if (fresh) it->second = read_file(environment_path(variable));
    INFO(variable << " names an unreadable file");
    REQUIRE_FALSE(it->second.empty());
    return it->second;
}

// An image in the vdsokit layout, built with vdsokit's recipe (tests/elf/sample_vdso.cpp).
inline const bytes& sample_vdso() { return sample_from("VDSOKIT_ELF_SAMPLE_VDSO"); }
// An ordinary -nostdlib shared object.
inline const bytes& sample_library() { return sample_from("VDSOKIT_ELF_SAMPLE_LIBRARY"); }

}  // namespace vdsokit::elf::testing
