#include <atomic>
#include <vdsokit/vdso.hpp>
#include "api.hpp"
#include "config.hpp"

struct greeter_shared {
    std::atomic<std::uint64_t> greetings;
};
VDSOKIT_VVAR(greeter_shared, greeter_vvar);

std::uint32_t greeter_repeat() noexcept { return GREETER_REPEAT; }
std::uint64_t greeter_greet() noexcept { return greeter_vvar.greetings.fetch_add(1) + 1; }
