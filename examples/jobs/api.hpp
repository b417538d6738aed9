// The jobs vDSO's API: one queue of jobs shared by every address space that maps the image (it
// lives in vVAR). A job is a 64-bit value, for instance an index into a table of your own in
// shared memory. No call blocks anyone else: a process killed in any of them costs at most the
// job it had taken (and, inside jobs_submit_all, the places it had reserved; see split_deque).
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

// Queues `job` behind every job queued before it; false when the queue is full.
bool jobs_submit(std::uint64_t job) noexcept;

// Queues all `count` jobs, in order, or none (false) when that many places are not free.
bool jobs_submit_all(const std::uint64_t* jobs, std::size_t count) noexcept;

// Takes the oldest job: 1 taken, 0 none queued, -1 none queued and the queue closed.
int jobs_try_take(std::uint64_t* job) noexcept;

// Takes the oldest job, sleeping (futex) while none is queued: 1 taken, -1 the queue is closed
// and every job has been taken.
int jobs_take(std::uint64_t* job) noexcept;

// No more jobs will be submitted (call it once every submitter has returned): wakes every
// sleeping taker. Jobs already queued are still taken.
void jobs_close() noexcept;

// Jobs queued right now (a snapshot), and the queue's capacity (JOBS_CAPACITY).
std::uint32_t jobs_queued() noexcept;
std::uint32_t jobs_capacity() noexcept;
}
