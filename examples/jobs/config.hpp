// Build-time constants of the jobs vDSO. Override without editing code, e.g.
//   JOBS_CAPACITY=4096 meson compile -C build      or      meson configure build -Dmut_cfg=JOBS_CAPACITY=4096
#pragma once

#include <cstdint>

#include <vdsokit/mut_cfg.hpp>

#include "jobs_mut_cfg.hpp"

// How many jobs the queue holds (a power of two): a submit finds it full beyond that.
VDSOKIT_MUT_CFG(std::uint32_t, JOBS_CAPACITY, 256);
