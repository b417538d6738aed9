#include <vdsokit/vdso.hpp>
#include "api.hpp"
#include "config.hpp"
#include "shared.hpp"

std::uint32_t greeter_repeat() noexcept { return GREETER_REPEAT; }
std::uint64_t greeter_greet() noexcept { return greeter_vvar.greetings.fetch_add(1) + 1; }
