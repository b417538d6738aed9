#pragma once
#include <atomic>
#include <cstdint>
#include <vdsokit/vvar.hpp>

// The greeter's vVAR: one copy, seen by every address space that maps the image.
struct greeter_shared {
    std::atomic<std::uint64_t> greetings;
};
VDSOKIT_VVAR(greeter_shared, greeter_vvar);    // the one vVAR object, at vVAR offset 0
