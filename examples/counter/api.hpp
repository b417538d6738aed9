// The counter vDSO's API: what every address space that maps it may call.
#pragma once

#include <cstdint>

extern "C" {

// Adds `amount * COUNTER_STEP` to the counter all address spaces share; returns the new total.
std::uint64_t counter_add_shared(std::uint64_t amount) noexcept;

// Adds `amount` to this address space's own counter; returns the new value.
std::uint64_t counter_add_private(std::uint64_t amount) noexcept;

std::uint64_t counter_read_shared() noexcept;
std::uint64_t counter_read_private() noexcept;

// How many times any address space called counter_add_shared.
std::uint64_t counter_calls() noexcept;

// The MUT_CFG value the image was built with.
std::uint32_t counter_step() noexcept;
}
