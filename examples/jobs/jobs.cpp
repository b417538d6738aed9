// The jobs vDSO: a job queue in vVAR. The hot paths are one CAS each and make no system call; a
// submit enters the kernel only to wake takers that went to sleep on an empty queue.
#include <span>

#include <vdsokit/vdso.hpp>

#include "api.hpp"
#include "config.hpp"
#include "shared.hpp"

bool jobs_submit(std::uint64_t job) noexcept {
    if (!jobs_vvar.queue.push_back(job)) return false;
    jobs_vvar.submitted.notify_all();
    return true;
}

bool jobs_submit_all(const std::uint64_t* jobs, std::size_t count) noexcept {
    if (count == 0) return true;
    // Bulk: the places are reserved first, so either all are queued or none.
    if (jobs_vvar.queue.push_multiple(vdsokit::deque_end::back, std::span(jobs, count), vdsokit::batch_mode::bulk) != count)
        return false;
    jobs_vvar.submitted.notify_all();
    return true;
}

int jobs_try_take(std::uint64_t* job) noexcept {
    if (jobs_vvar.queue.pop_front(*job)) return 1;
    if (jobs_vvar.closed.load(std::memory_order_acquire) == 0) return 0;
    // Closed: every job was submitted before the close, so one more look sees them all.
    return jobs_vvar.queue.pop_front(*job) ? 1 : -1;
}

int jobs_take(std::uint64_t* job) noexcept {
    for (;;) {
        if (const int taken = jobs_try_take(job); taken != 0) return taken;
        const std::uint32_t ticket = jobs_vvar.submitted.prepare_wait();
        // Look again after taking the ticket: a submit between the two would otherwise be missed.
        if (const int taken = jobs_try_take(job); taken != 0) return taken;
        jobs_vvar.submitted.wait(ticket);
    }
}

void jobs_close() noexcept {
    jobs_vvar.closed.store(1, std::memory_order_release);
    jobs_vvar.submitted.notify_all();
}

std::uint32_t jobs_queued() noexcept { return jobs_vvar.queue.size(); }

std::uint32_t jobs_capacity() noexcept { return JOBS_CAPACITY; }
