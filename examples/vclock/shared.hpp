// The vclock vDSO's vVAR: Linux-style time data, laid out by include/vdsokit/vclock.hpp, which the
// kernel (or vdsokit-exec) includes to write it.
#pragma once

#include <vdsokit/vclock.hpp>
#include <vdsokit/vvar.hpp>

VDSOKIT_VVAR(vdsokit::vclock::time_page, vclock_time_page);
