// The jobs vDSO's vVAR: the queue every address space submits to and takes from.
#pragma once

#include <atomic>
#include <cstdint>

#include <vdsokit/futex.hpp>
#include <vdsokit/split_deque.hpp>
#include <vdsokit/vvar.hpp>

#include "config.hpp"

struct jobs_shared {
    vdsokit::split_deque<std::uint64_t, JOBS_CAPACITY> queue;
    vdsokit::shared_event submitted;    // takers sleep on it while the queue is empty
    std::atomic<std::uint32_t> closed;  // set once no more jobs will be submitted
};

VDSOKIT_VVAR(jobs_shared, jobs_vvar);
