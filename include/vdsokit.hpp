// vdsokit: write, build and load vDSO shared libraries in C++20.
//
// The umbrella header: everything that compiles freestanding (no exceptions, RTTI, heap or libc),
// for vDSO sources, kernels and hosts alike. Hosted parts (the Linux loader) live under
// vdsokit/linux/ and are included on their own.
#pragma once

#include <vdsokit/dispatch.hpp>     // dispatch tables generated per vDSO
#include <vdsokit/elf.hpp>          // validating ELF reader, symbol lookup
#include <vdsokit/fingerprint.hpp>  // compile-time layout fingerprints
#include <vdsokit/futex.hpp>        // cross-process wait and wake
#include <vdsokit/image.hpp>        // what it takes to map an image, as data
#include <vdsokit/load_plan.hpp>    // from a validated image to mappings and relocations
#include <vdsokit/mut_cfg.hpp>      // build-time constants overridable from the environment
#include <vdsokit/note.hpp>         // the notes an image carries
#include <vdsokit/ring.hpp>         // SPSC and MPMC rings for one-direction queues
#include <vdsokit/seqlock.hpp>      // single-writer snapshots (vdso_read_begin/retry)
#include <vdsokit/vvar.hpp>         // shared data below the image

// The deques need a 16-byte compare-and-swap the compiler can inline; riscv64 has none.
#if defined(__x86_64__) || defined(__aarch64__)
#include <vdsokit/deque.hpp>        // MPMC double-ended queue for shared memory
#include <vdsokit/split_deque.hpp>  // the same for small elements, ends on separate cache lines
#endif
