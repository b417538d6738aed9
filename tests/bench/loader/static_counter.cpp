// counter_add_private's body, linked statically into the benchmark (its own translation unit, no
// LTO), as the baseline for a call that needs no dispatch at all.
#include <cstdint>

namespace {
std::uint64_t private_total = 0;
}

[[gnu::noinline]] std::uint64_t static_counter_add_private(std::uint64_t amount) noexcept {
    return private_total += amount;
}
