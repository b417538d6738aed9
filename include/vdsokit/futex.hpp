// Waiting across address spaces: futex(2) on a 32-bit word in shared memory, spin first, sleep after.
//
// C++20 std::atomic::wait/notify cannot do this with libstdc++ 12: notify consults a process-local
// waiter table and skips FUTEX_WAKE when *this* process has no waiter, so a waiter in another
// process sleeps on. Here the kernel call is made directly and without FUTEX_PRIVATE_FLAG: a shared
// futex is keyed by the page and offset of the word, so processes that map it at different
// addresses (and a kernel-side waker using the same key) meet.
//
// `shared_event` is an event count for "wait until something changed" (a queue became non-empty
// or non-full): the waker pays a syscall only while someone sleeps; hot paths stay syscall-free.
// A process killed while asleep leaves the sleeper count raised: nobody blocks, but every notify
// then makes a (harmless) FUTEX_WAKE call.
//
// Freestanding: raw system calls, no libc.
#pragma once

#include <atomic>
#include <cstdint>

#include <vdsokit/detail/cpu_relax.hpp>
#include <vdsokit/detail/syscall.hpp>
#include <vdsokit/fingerprint.hpp>

namespace vdsokit {

enum class futex_wait_result : std::uint8_t {
    woken,          // FUTEX_WAKE reached us (or a spurious wake-up: re-check the condition)
    value_changed,  // the word no longer held the expected value when the kernel looked
    timed_out,
    interrupted,    // a signal arrived
};

namespace detail {
inline constexpr int futex_wait_op = 0;  // FUTEX_WAIT: no FUTEX_PRIVATE_FLAG (128), on purpose
inline constexpr int futex_wake_op = 1;  // FUTEX_WAKE
inline constexpr long errno_again = 11, errno_interrupted = 4, errno_timed_out = 110;

struct futex_timespec {  // the kernel's struct timespec on 64-bit targets
    long seconds;
    long nanoseconds;
};

inline std::uint32_t* futex_address(std::atomic<std::uint32_t>& word) noexcept {
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                      std::atomic<std::uint32_t>::is_always_lock_free,
                  "vdsokit: futex needs std::atomic<uint32_t> to be a plain lock-free 32-bit word.");
    return reinterpret_cast<std::uint32_t*>(&word);
}
}  // namespace detail

inline constexpr std::uint64_t futex_wait_forever = ~std::uint64_t(0);

// Sleeps while `word` == `expected`, for at most timeout_ns (relative). Returns why it woke.
inline futex_wait_result futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                                    std::uint64_t timeout_ns = futex_wait_forever) noexcept {
    detail::futex_timespec timeout{long(timeout_ns / 1000000000u), long(timeout_ns % 1000000000u)};
    const long result = detail::raw_syscall(
        detail::syscall_numbers::futex, reinterpret_cast<long>(detail::futex_address(word)),
        detail::futex_wait_op, long(expected),
        timeout_ns == futex_wait_forever ? 0 : reinterpret_cast<long>(&timeout));
    if (result == 0) return futex_wait_result::woken;
    if (result == -detail::errno_again) return futex_wait_result::value_changed;
    if (result == -detail::errno_timed_out) return futex_wait_result::timed_out;
    return futex_wait_result::interrupted;
}

// Wakes up to `count` waiters on `word` in any process; returns how many were woken.
inline std::uint32_t futex_wake(std::atomic<std::uint32_t>& word,
                                std::uint32_t count = 0x7fffffffu) noexcept {
    const long result = detail::raw_syscall(detail::syscall_numbers::futex,
                                            reinterpret_cast<long>(detail::futex_address(word)),
                                            detail::futex_wake_op, long(count));
    return result > 0 ? std::uint32_t(result) : 0;
}

// Spins `spin_limit` times, then sleeps, until `word` != `expected`. Returns the new value.
inline std::uint32_t wait_until_changed(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                                        std::uint32_t spin_limit = 2000) noexcept {
    for (std::uint32_t spin = 0; spin < spin_limit; ++spin) {
        const std::uint32_t now = word.load(std::memory_order_acquire);
        if (now != expected) return now;
        detail::cpu_relax();
    }
    for (;;) {
        const std::uint32_t now = word.load(std::memory_order_acquire);
        if (now != expected) return now;
        futex_wait(word, expected);
    }
}

// An event count in shared memory. A waiter takes a ticket, re-checks its condition, and waits on
// the ticket; a notifier bumps the count and makes the syscall only if someone sleeps:
//
//   for (;;) { if (queue.pop_front(item)) break;
//              auto ticket = event.prepare_wait();
//              if (queue.pop_front(item)) break;   // re-check: a push may predate the ticket
//              event.wait(ticket); }
//   ... queue.push_back(item); event.notify_all();
class shared_event {
public:
    constexpr shared_event() noexcept = default;

    [[nodiscard]] std::uint32_t prepare_wait() noexcept {
        // seq_cst: the ticket read must not pass the waiter's re-check of its condition.
        return sequence_.load(std::memory_order_seq_cst);
    }
    // Returns once the event was notified after `ticket` was taken (spins first, then sleeps).
    void wait(std::uint32_t ticket, std::uint32_t spin_limit = 2000) noexcept {
        for (std::uint32_t spin = 0; spin < spin_limit; ++spin) {
            if (sequence_.load(std::memory_order_acquire) != ticket) return;
            detail::cpu_relax();
        }
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        while (sequence_.load(std::memory_order_seq_cst) == ticket) futex_wait(sequence_, ticket);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    void notify_all() noexcept {
        sequence_.fetch_add(1, std::memory_order_seq_cst);
        // Dekker with wait(): sleepers_ is raised before the sequence re-check, and the sequence
        // is raised before this read, so at least one side sees the other.
        if (sleepers_.load(std::memory_order_seq_cst) != 0) futex_wake(sequence_);
    }
    // Wakes one sleeper (several may still return, since they all watch the same count).
    void notify_one() noexcept {
        sequence_.fetch_add(1, std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_seq_cst) != 0) futex_wake(sequence_, 1);
    }

    static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept {
        return fingerprint_builder{}.add("vdsokit::shared_event/1").add(sizeof(shared_event)).value();
    }

private:
    std::atomic<std::uint32_t> sequence_{0};
    std::atomic<std::uint32_t> sleepers_{0};
};

}  // namespace vdsokit
