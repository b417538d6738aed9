#pragma once
#include <cstdint>
#include <vdsokit/mut_cfg.hpp>
#include "test_mut_cfg.hpp"

enum class test_mode : std::uint8_t { fast, careful = 5, paranoid };

VDSOKIT_MUT_CFG(std::uint32_t, TEST_STEP, 1);
VDSOKIT_MUT_CFG(std::int8_t, TEST_OFFSET, -3);
VDSOKIT_MUT_CFG(bool, TEST_TRACE, false);
VDSOKIT_MUT_CFG(test_mode, TEST_MODE, test_mode::fast);
