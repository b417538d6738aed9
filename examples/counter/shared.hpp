// The counter vDSO's vVAR: one struct every address space sees at the same physical pages.
#pragma once

#include <atomic>
#include <cstdint>

#include <vdsokit/vvar.hpp>

struct counter_shared {
    std::atomic<std::uint64_t> total;
    std::atomic<std::uint64_t> calls;
};

VDSOKIT_VVAR(counter_shared, counter_vvar);
