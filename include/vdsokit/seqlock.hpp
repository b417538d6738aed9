// Sequence counters and seqlocks: one writer publishes a snapshot, any number of readers in any
// address space copy it without ever writing to shared memory.
//
// The protocol is Linux's `vdso_read_begin` / `vdso_read_retry`: the writer makes the counter odd,
// writes, and makes it even again; a reader copies the data between two reads of the counter and
// retries if the counter was odd or changed. Readers never block the writer. Expensive work on the
// copied data (division, scaling) belongs after the retry loop, so a retry costs only the copy.
//
// In C++ terms (Boehm, "Can seqlocks get along with programming language memory models?"): data
// words are relaxed atomics, the reader orders them with an acquire fence before re-reading the
// counter, and the writer with a release fence after making the counter odd.
//
// A writer that dies between write_begin() and write_end() leaves the counter odd, and readers
// then wait in read_begin() for good: the writer must be the kernel, or a process whose death
// ends the readers' use of the data too. `seqlock::try_load` makes one attempt and never waits,
// for readers that must stay live and have a fallback (vclock falls back to the system call).
//
// Freestanding: no heap, exceptions, RTTI or libc.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <vdsokit/detail/cpu_relax.hpp>
#include <vdsokit/fingerprint.hpp>

namespace vdsokit {

// The bare counter, for data that lives in its own struct (e.g. Linux's vdso_data).
class seqcount {
public:
    // Waits while a write is in progress; returns the sequence to pass to read_retry().
    [[nodiscard]] std::uint32_t read_begin() const noexcept {
        for (;;) {
            const std::uint32_t sequence = sequence_.load(std::memory_order_acquire);
            if ((sequence & 1u) == 0) return sequence;
            detail::cpu_relax();
        }
    }
    // True if the data read since read_begin() may be torn and must be read again.
    [[nodiscard]] bool read_retry(std::uint32_t start) const noexcept {
        std::atomic_thread_fence(std::memory_order_acquire);
        return sequence_.load(std::memory_order_relaxed) != start;
    }
    // Single writer only: concurrent writers must be serialised by the caller.
    void write_begin() noexcept {
        sequence_.store(sequence_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
    }
    void write_end() noexcept {
        sequence_.store(sequence_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    [[nodiscard]] std::uint32_t sequence() const noexcept {
        return sequence_.load(std::memory_order_relaxed);
    }

    static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept {
        return fingerprint_builder{}.add("vdsokit::seqcount/1").add(sizeof(std::uint32_t)).value();
    }

private:
    std::atomic<std::uint32_t> sequence_{0};
};

// A seqcount and the value it guards. T is copied word by word with relaxed atomic accesses, so a
// torn read is possible inside the loop but never returned.
template <class T>
class seqlock {
    static_assert(std::is_trivially_copyable_v<T>, "vdsokit: seqlock<T> needs a trivially copyable T.");

public:
    seqlock() = default;
    explicit seqlock(const T& initial) noexcept { write_words(initial); }

    // Single writer.
    void store(const T& value) noexcept {
        sequence_.write_begin();
        write_words(value);
        sequence_.write_end();
    }

    [[nodiscard]] T load() const noexcept {
        T copy;
        std::uint32_t start;
        do {
            start = sequence_.read_begin();
            read_words(copy);
        } while (sequence_.read_retry(start));
        return copy;
    }

    // One attempt: false if a writer was active or interfered (for callers with their own fallback).
    [[nodiscard]] bool try_load(T& out) const noexcept {
        const std::uint32_t start = sequence_.sequence();
        if ((start & 1u) != 0) return false;
        std::atomic_thread_fence(std::memory_order_acquire);
        read_words(out);
        return !sequence_.read_retry(start);
    }

    static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept {
        return fingerprint_builder{}
            .add("vdsokit::seqlock/1")
            .add(layout_fingerprint<T>)
            .add(sizeof(seqlock))
            .add(alignof(seqlock))
            .value();
    }

private:
    using word = std::uint64_t;
    static constexpr std::size_t word_count = (sizeof(T) + sizeof(word) - 1) / sizeof(word);

    void write_words(const T& value) noexcept {
        word staged[word_count] = {};
        __builtin_memcpy(staged, &value, sizeof(T));
        for (std::size_t i = 0; i < word_count; ++i)
            __atomic_store_n(&words_[i], staged[i], __ATOMIC_RELAXED);
    }
    void read_words(T& out) const noexcept {
        word staged[word_count];
        for (std::size_t i = 0; i < word_count; ++i)
            staged[i] = __atomic_load_n(&words_[i], __ATOMIC_RELAXED);
        __builtin_memcpy(&out, staged, sizeof(T));
    }

    seqcount sequence_;
    word words_[word_count] = {};
};

}  // namespace vdsokit
