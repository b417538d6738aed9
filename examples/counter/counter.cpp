// The counter vDSO: a shared counter in vVAR, a private one per address space.
#include <vdsokit/vdso.hpp>

#include "api.hpp"
#include "config.hpp"
#include "shared.hpp"

namespace {
// Private data: each address space gets its own copy of the image's .bss.
constinit std::uint64_t private_total = 0;
}  // namespace

std::uint64_t counter_add_shared(std::uint64_t amount) noexcept {
    counter_vvar.calls.fetch_add(1, std::memory_order_relaxed);
    return counter_vvar.total.fetch_add(amount * COUNTER_STEP, std::memory_order_acq_rel) +
           amount * COUNTER_STEP;
}

std::uint64_t counter_add_private(std::uint64_t amount) noexcept { return private_total += amount; }

std::uint64_t counter_read_shared() noexcept {
    return counter_vvar.total.load(std::memory_order_acquire);
}

std::uint64_t counter_read_private() noexcept { return private_total; }

std::uint64_t counter_calls() noexcept { return counter_vvar.calls.load(std::memory_order_relaxed); }

std::uint32_t counter_step() noexcept { return COUNTER_STEP; }
