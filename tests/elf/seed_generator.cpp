// Writes a seed corpus for the ELF fuzz target: each image given on the command line and the
// running kernel's vDSO, intact and under every mutation of elf_test_support.hpp (truncated files,
// lying offsets, huge counts, overlapping segments, hash tables out of bounds ...).
//
// usage: elf_seed_generator OUTPUT_DIR IMAGE...
#include <filesystem>
#include <fstream>
#include <string>

#include "elf_test_support.hpp"

using namespace vdsokit::elf::testing;

namespace {
void write(const std::string& path, const bytes& content) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
}

std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s OUTPUT_DIR IMAGE...\n", argv[0]);
        return 2;
    }
    const std::string directory = argv[1];
    std::filesystem::create_directories(directory);
    std::vector<std::pair<std::string, bytes>> images;
    for (int i = 2; i < argc; ++i) images.emplace_back(base_name(argv[i]), read_file(argv[i]));
    const auto vdso = kernel_vdso();
    if (!vdso.empty()) images.emplace_back("kernel-vdso", bytes(vdso.begin(), vdso.end()));

    int written = 0;
    const auto all = mutations();
    for (const auto& [name, original] : images) {
        if (original.empty()) {
            std::fprintf(stderr, "cannot read %s\n", name.c_str());
            return 1;
        }
        write(directory + "/" + name, original);
        ++written;
        for (const auto& m : all) {
            bytes copy = original;
            if (!m.apply(copy)) continue;
            write(directory + "/" + name + "-" + m.name, copy);
            ++written;
        }
    }
    std::printf("%d seeds written to %s\n", written, directory.c_str());
    return 0;
}
