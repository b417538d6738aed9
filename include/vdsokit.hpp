// vdsokit: write, build and load vDSO shared libraries in C++20.
// The umbrella header: everything that compiles freestanding. Hosted parts (the Linux loader) live
// under vdsokit/linux/ and are included on their own.
#pragma once

#include <vdsokit/fingerprint.hpp>
#include <vdsokit/image.hpp>
#include <vdsokit/seqlock.hpp>
