#pragma once
#include <cstdint>
extern "C" {
// How many times the greeting repeats: the image's MUT_CFG value.
std::uint32_t greeter_repeat() noexcept;
// Counts greetings in vVAR; returns the count after this one.
std::uint64_t greeter_greet() noexcept;
}
