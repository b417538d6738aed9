#pragma once
#include <cstdint>
#include <vdsokit/mut_cfg.hpp>
#include "greeter_mut_cfg.hpp"
VDSOKIT_MUT_CFG(std::uint32_t, GREETER_REPEAT, 2);
