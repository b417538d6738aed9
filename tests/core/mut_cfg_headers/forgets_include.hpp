#pragma once
#include <vdsokit/mut_cfg.hpp>
VDSOKIT_MUT_CFG(int, FORGOTTEN, 1);
