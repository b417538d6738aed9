#pragma once
#include <vdsokit/mut_cfg.hpp>
#include "test_mut_cfg.hpp"
namespace settings {
VDSOKIT_MUT_CFG(int, NESTED, 1);
}
