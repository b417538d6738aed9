// Build-time constants of the counter vDSO. Override without editing code, e.g.
//   COUNTER_STEP=10 meson compile -C build      or      meson configure build -Dmut_cfg=COUNTER_STEP=10
#pragma once

#include <cstdint>

#include <vdsokit/mut_cfg.hpp>

#include "counter_mut_cfg.hpp"

VDSOKIT_MUT_CFG(std::uint32_t, COUNTER_STEP, 1);
