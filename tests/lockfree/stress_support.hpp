// Test support for the lock-free structures: item encoding, an exactly-once ledger that lives in
// shared memory, and memfd mappings shared by fork()ed processes at different addresses.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <type_traits>
#include <vector>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vdsokit_test {

// ThreadSanitizer runs ~10x slower: its builds stress with fewer items.
#if defined(__SANITIZE_THREAD__)
inline constexpr std::uint32_t stress_divisor = 10;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr std::uint32_t stress_divisor = 10;
#else
inline constexpr std::uint32_t stress_divisor = 1;
#endif
#else
inline constexpr std::uint32_t stress_divisor = 1;
#endif

// Items carry their producer and sequence number so that a consumer can tick them off exactly once.
constexpr std::uint64_t make_item(std::uint32_t producer, std::uint32_t sequence) {
    return (std::uint64_t(producer) << 32) | sequence;
}
constexpr std::uint32_t item_producer(std::uint64_t item) { return std::uint32_t(item >> 32); }
constexpr std::uint32_t item_sequence(std::uint64_t item) { return std::uint32_t(item); }

// Elements of the deque's two representations: 8 bytes live in the cells (inline_deque), larger
// ones in a pool of slots (pooled_deque). A wide item repeats its value so that a torn copy is caught.
struct wide_item {
    std::uint64_t item = 0;
    std::uint64_t check = 0;
};
template <class Element>
Element element_of(std::uint64_t item) {
    if constexpr (std::is_same_v<Element, wide_item>) return {item, ~item};
    else return item;
}
template <class Element>
std::uint64_t item_of(const Element& element, std::atomic<std::uint64_t>& torn) {
    if constexpr (std::is_same_v<Element, wide_item>) {
        if (element.check != ~element.item) torn.fetch_add(1);
        return element.item;
    } else {
        return element;
    }
}

// One bit per (producer, sequence): seen twice is a duplicate, never seen is a loss.
template <std::uint32_t Producers, std::uint32_t ItemsPerProducer>
struct exactly_once_ledger {
    static constexpr std::uint32_t words_per_producer = (ItemsPerProducer + 63) / 64;
    std::atomic<std::uint64_t> bits[Producers * words_per_producer];
    std::atomic<std::uint64_t> duplicates;
    std::atomic<std::uint64_t> out_of_range;
    std::atomic<std::uint64_t> consumed;
    std::atomic<std::uint64_t> checksum;

    void record(std::uint64_t item) {
        const std::uint32_t producer = item_producer(item), sequence = item_sequence(item);
        if (producer >= Producers || sequence >= ItemsPerProducer) {
            out_of_range.fetch_add(1);
            return;
        }
        const std::uint64_t mask = std::uint64_t(1) << (sequence % 64);
        const std::uint64_t before =
            bits[producer * words_per_producer + sequence / 64].fetch_or(mask, std::memory_order_relaxed);
        if ((before & mask) != 0) duplicates.fetch_add(1);
        consumed.fetch_add(1, std::memory_order_relaxed);
        checksum.fetch_add(item * 0x9e3779b97f4a7c15ull, std::memory_order_relaxed);
    }
    [[nodiscard]] bool seen(std::uint32_t producer, std::uint32_t sequence) const {
        return (bits[producer * words_per_producer + sequence / 64].load() >> (sequence % 64)) & 1u;
    }
    static std::uint64_t expected_checksum(std::uint32_t producers, std::uint32_t items) {
        std::uint64_t sum = 0;
        for (std::uint32_t p = 0; p < producers; ++p)
            for (std::uint32_t s = 0; s < items; ++s) sum += make_item(p, s) * 0x9e3779b97f4a7c15ull;
        return sum;
    }
};

// An anonymous memory file: the parent maps it once; every child maps it again, so the same bytes
// sit at a different address in each process (a fresh mapping can never reuse the inherited one).
class shared_memory_file {
public:
    explicit shared_memory_file(std::size_t bytes) : size_(round_up(bytes)) {
        fd_ = memfd_create("vdsokit-lockfree-test", 0);
        if (fd_ < 0 || ftruncate(fd_, off_t(size_)) != 0) std::abort();
        parent_view_ = map();
    }
    ~shared_memory_file() {
        munmap(parent_view_, size_);
        close(fd_);
    }
    void* parent_view() const { return parent_view_; }
    // A new mapping of the same file, placed by the kernel near `hint` if that range is free.
    void* map(void* hint = nullptr) const {
        void* view = mmap(hint, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (view == MAP_FAILED) std::abort();
        return view;
    }
    std::size_t size() const { return size_; }

private:
    static std::size_t round_up(std::size_t bytes) { return (bytes + 4095) / 4096 * 4096; }
    int fd_ = -1;
    std::size_t size_ = 0;
    void* parent_view_ = nullptr;
};

// Runs child_body (which must not return) in a fork()ed child.
pid_t spawn(auto&& child_body) {
    const pid_t pid = fork();
    if (pid < 0) std::abort();
    if (pid == 0) child_body();
    return pid;
}

// Waits for every child; true if all exited with status 0. After hang_limit the rest are killed
// and it returns false: a hang detector, not a speed check.
inline bool wait_all(const std::vector<pid_t>& children, std::chrono::seconds hang_limit) {
    const auto deadline = std::chrono::steady_clock::now() + hang_limit;
    std::size_t remaining = children.size();
    std::vector<bool> done(children.size());
    bool all_clean = true;
    while (remaining > 0) {
        for (std::size_t i = 0; i < children.size(); ++i) {
            int status = 0;
            if (done[i] || waitpid(children[i], &status, WNOHANG) != children[i]) continue;
            done[i] = true;
            --remaining;
            all_clean = all_clean && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            for (std::size_t i = 0; i < children.size(); ++i)
                if (!done[i]) kill(children[i], SIGKILL), waitpid(children[i], nullptr, 0);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return all_clean;
}

// Spawns victims (spawn_victim(id) returns a pid; ids from next_id on) `per_round` at a time and
// SIGKILLs each after a random 0.2-5.2 ms, `rounds` times. Returns how many were killed.
inline std::uint32_t kill_at_random_moments(std::uint32_t rounds, std::uint32_t per_round, std::uint32_t& next_id,
                                            unsigned seed, auto&& spawn_victim) {
    std::uint32_t random = seed | 1u;
    std::uint32_t kills = 0;
    for (std::uint32_t round = 0; round < rounds; ++round) {
        std::vector<pid_t> victims;
        for (std::uint32_t v = 0; v < per_round; ++v) victims.push_back(spawn_victim(next_id++));
        for (pid_t victim : victims) {
            random ^= random << 13, random ^= random >> 17, random ^= random << 5;
            std::this_thread::sleep_for(std::chrono::microseconds(200 + random % 5000));
            kill(victim, SIGKILL);
            waitpid(victim, nullptr, 0);
            ++kills;
        }
    }
    return kills;
}

// After a kill test: items confirmed pushed but never consumed (lost: at most one popped item per
// killed process), and items consumed that were never pushed (phantoms: an item whose push was in
// flight may or may not have been delivered, but nothing past it may appear).
struct kill_accounting {
    std::uint64_t lost = 0;
    std::uint64_t phantoms = 0;
};
template <class Ledger>
kill_accounting account_for_kills(const Ledger& ledger, const std::atomic<std::uint32_t>* confirmed,
                                  std::uint32_t producers, std::uint32_t max_items) {
    kill_accounting result;
    for (std::uint32_t id = 0; id < producers; ++id) {
        const std::uint32_t pushed = confirmed[id].load();
        for (std::uint32_t sequence = 0; sequence < pushed; ++sequence)
            if (!ledger.seen(id, sequence)) ++result.lost;
        for (std::uint32_t sequence = pushed + 1; sequence < max_items && sequence < pushed + 64; ++sequence)
            if (ledger.seen(id, sequence)) ++result.phantoms;
    }
    return result;
}

// Shared state constructed in the parent's view (zeroed memory already is a valid initial state
// for the vdsokit types; placement new makes the lifetime explicit).
template <class Shared>
Shared* construct_shared(shared_memory_file& file) {
    static_assert(sizeof(Shared) > 0);
    std::memset(file.parent_view(), 0, file.size());
    return new (file.parent_view()) Shared();
}

}  // namespace vdsokit_test
