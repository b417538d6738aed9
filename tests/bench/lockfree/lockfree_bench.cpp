// Lock-free structures against their peers, all in one run: single-thread push+pop, 1P1C and 2P2C
// throughput, and cross-process round trips against pipe, eventfd and socketpair. Every figure is
// the median of several repetitions; the output is a markdown table with ratios. Reports only:
// nothing here passes or fails on a number.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <xenium/vyukov_bounded_queue.hpp>
#if __has_include(<atomic_queue/atomic_queue.h>)
#include <atomic_queue/atomic_queue.h>
#define VDSOKIT_BENCH_HAS_ATOMIC_QUEUE 1
#endif

#include <vdsokit/deque.hpp>
#include <vdsokit/futex.hpp>
#include <vdsokit/ring.hpp>
#include <vdsokit/split_deque.hpp>

namespace {

using item = std::uint64_t;
constexpr std::uint32_t capacity = 1024;
int repetitions = 5;

// --- adapters: push/pop with try semantics -------------------------------------------------------

// Queues with a per-thread fast path (vdsokit's pusher, moodycamel's tokens) are measured through
// it: each producer or consumer thread attaches its own with attach_producer()/attach_consumer().
struct vdsokit_deque_adapter {
    static constexpr const char* name = "vdsokit::deque";
    static constexpr bool multi = true;
    vdsokit::deque<item, capacity> queue;
    bool push(item v) { return queue.push_back(v); }
    bool pop(item& v) { return queue.pop_front(v); }
    struct producer {
        vdsokit::deque<item, capacity>::pusher pusher;
        bool push(item v) { return pusher.push_back(v); }
    };
    producer attach_producer() { return {queue.attach_pusher()}; }
};
struct vdsokit_split_deque_adapter {
    static constexpr const char* name = "vdsokit::split_deque";
    static constexpr bool multi = true;
    vdsokit::split_deque<item, capacity> queue;
    bool push(item v) { return queue.push_back(v); }
    bool pop(item& v) { return queue.pop_front(v); }
};
// The same deque, each consumer popping through its own trailing_consumer (it stays behind a
// streaming producer, at a bounded cost in latency; the round trips measure it too). Measured
// only repetition by repetition (`split`), to tell its part from trailing_producer's.
struct vdsokit_split_deque_trailing_adapter {
    static constexpr const char* name = "vdsokit::split_deque, trailing_consumer";
    static constexpr bool multi = true;
    using deque_type = vdsokit::split_deque<item, capacity>;
    deque_type queue;
    bool push(item v) { return queue.push_back(v); }
    struct consumer {
        deque_type::trailing_consumer trailing;
        bool pop(item& v) { return trailing.pop_front(v); }
    };
    consumer attach_consumer() { return {deque_type::trailing_consumer(queue)}; }
};
// The same deque, each producer pushing through its own trailing_producer (it leaves the
// consumers alone for a while after finding the deque full) and each consumer popping through
// its own trailing_consumer.
struct vdsokit_split_deque_handles_adapter : vdsokit_split_deque_trailing_adapter {
    static constexpr const char* name = "vdsokit::split_deque, trailing handles";
    struct producer {
        deque_type::trailing_producer trailing;
        bool push(item v) { return trailing.push_back(v); }
    };
    producer attach_producer() { return {deque_type::trailing_producer(queue)}; }
};
struct vdsokit_mpmc_ring_adapter {
    static constexpr const char* name = "vdsokit::mpmc_ring";
    static constexpr bool multi = true;
    vdsokit::mpmc_ring<item, capacity> queue;
    bool push(item v) { return queue.push(v); }
    bool pop(item& v) { return queue.pop(v); }
};
// One producer and one consumer only; submit per push. Each thread holds its own handle, as a
// process of an SQ/CQ pair would (a handle's private tail and cached head stay in its registers).
struct vdsokit_spsc_ring_adapter {
    static constexpr const char* name = "vdsokit::spsc_ring";
    static constexpr bool multi = false;
    using ring_type = vdsokit::spsc_ring<item, capacity>;
    ring_type queue;
    struct producer {
        ring_type::producer handle;
        bool push(item v) {
            if (!handle.push(v)) return false;
            handle.submit();
            return true;
        }
    };
    struct consumer {
        ring_type::consumer handle;
        bool pop(item& v) { return handle.pop(v); }
    };
    producer attach_producer() { return {ring_type::producer(queue)}; }
    consumer attach_consumer() { return {ring_type::consumer(queue)}; }
};
// The same ring, the consumer reading through a trailing_consumer (it stays behind a streaming
// producer, at a bounded cost in latency).
struct vdsokit_spsc_ring_trailing_adapter : vdsokit_spsc_ring_adapter {
    static constexpr const char* name = "vdsokit::spsc_ring, trailing_consumer";
    struct consumer {
        ring_type::trailing_consumer handle;
        bool pop(item& v) { return handle.pop(v); }
    };
    consumer attach_consumer() { return {ring_type::trailing_consumer(queue)}; }
};
struct xenium_vyukov_adapter {
    static constexpr const char* name = "xenium vyukov_bounded_queue";
    static constexpr bool multi = true;
    xenium::vyukov_bounded_queue<item> queue{capacity};
    bool push(item v) { return queue.try_push(v); }
    bool pop(item& v) { return queue.try_pop(v); }
};
#ifdef VDSOKIT_BENCH_HAS_ATOMIC_QUEUE
struct atomic_queue_adapter {
    static constexpr const char* name = "atomic_queue AtomicQueue2";
    static constexpr bool multi = true;
    atomic_queue::AtomicQueue2<item, capacity> queue;
    bool push(item v) { return queue.try_push(std::move(v)); }
    bool pop(item& v) { return queue.try_pop(v); }
};
#endif
struct moodycamel_adapter {  // unbounded (heap): pre-sized, never full
    static constexpr const char* name = "moodycamel::ConcurrentQueue enqueue (unbounded)";
    static constexpr bool multi = true;
    moodycamel::ConcurrentQueue<item> queue{capacity};
    bool push(item v) { return queue.try_enqueue(v); }
    bool pop(item& v) { return queue.try_dequeue(v); }
    struct producer {
        moodycamel::ConcurrentQueue<item>* queue;
        moodycamel::ProducerToken token;
        // With a token, try_enqueue only uses blocks this producer already owns: it can refuse
        // for ever while another producer holds the pre-sized blocks. enqueue allocates instead.
        bool push(item v) { return queue->enqueue(token, v); }
    };
    struct consumer {
        moodycamel::ConcurrentQueue<item>* queue;
        moodycamel::ConsumerToken token;
        bool pop(item& v) { return queue->try_dequeue(token, v); }
    };
    producer attach_producer() { return {&queue, moodycamel::ProducerToken(queue)}; }
    consumer attach_consumer() { return {&queue, moodycamel::ConsumerToken(queue)}; }
};
// The same queue held to its 1024 pre-sized places: try_enqueue never allocates. Only 1P1C: an
// explicit producer never gives its blocks back to the pool, so with two producers one whose token
// holds no block refuses for ever (measured: the second producer never pushed an item).
struct moodycamel_bounded_adapter {
    static constexpr const char* name = "moodycamel::ConcurrentQueue try_enqueue (bounded)";
    static constexpr bool multi = true;
    static constexpr bool runs_2p2c = false;
    moodycamel::ConcurrentQueue<item> queue{capacity};
    struct producer {
        moodycamel::ConcurrentQueue<item>* queue;
        moodycamel::ProducerToken token;
        bool push(item v) { return queue->try_enqueue(token, v); }
    };
    producer attach_producer() { return {&queue, moodycamel::ProducerToken(queue)}; }
    moodycamel_adapter::consumer attach_consumer() { return {&queue, moodycamel::ConsumerToken(queue)}; }
};
struct boost_queue_adapter {
    static constexpr const char* name = "boost::lockfree::queue";
    static constexpr bool multi = true;
    boost::lockfree::queue<item, boost::lockfree::capacity<capacity - 2>> queue;
    bool push(item v) { return queue.bounded_push(v); }
    bool pop(item& v) { return queue.pop(v); }
};
struct boost_spsc_adapter {
    static constexpr const char* name = "boost::lockfree::spsc_queue";
    static constexpr bool multi = false;
    boost::lockfree::spsc_queue<item, boost::lockfree::capacity<capacity>> queue;
    bool push(item v) { return queue.push(v); }
    bool pop(item& v) { return queue.pop(v); }
};
struct mutex_ring_adapter {
    static constexpr const char* name = "std::mutex ring";
    static constexpr bool multi = true;
    std::mutex mutex;
    item entries[capacity];
    std::uint32_t head = 0, tail = 0;
    bool push(item v) {
        std::lock_guard lock(mutex);
        if (tail - head == capacity) return false;
        entries[tail++ % capacity] = v;
        return true;
    }
    bool pop(item& v) {
        std::lock_guard lock(mutex);
        if (tail == head) return false;
        v = entries[head++ % capacity];
        return true;
    }
};

template <class Adapter>
struct plain_producer {
    Adapter* adapter;
    bool push(item v) { return adapter->push(v); }
};
template <class Adapter>
struct plain_consumer {
    Adapter* adapter;
    bool pop(item& v) { return adapter->pop(v); }
};
template <class Adapter>
auto attach_producer(Adapter& adapter) {
    if constexpr (requires { adapter.attach_producer(); }) return adapter.attach_producer();
    else return plain_producer<Adapter>{&adapter};
}
template <class Adapter>
auto attach_consumer(Adapter& adapter) {
    if constexpr (requires { adapter.attach_consumer(); }) return adapter.attach_consumer();
    else return plain_consumer<Adapter>{&adapter};
}

// Controls for split_deque's trailing_producer: a queue whose producers, like the handle, wait 256
// pauses (the handle's full_wait_pauses) before pushing again after a refused push. They tell what
// the wait alone does for a queue that has none of its own. The xenium one counts as a peer.
template <class Adapter, const char* Name>
struct waiting_after_refusal : Adapter {
    static constexpr const char* name = Name;
    struct producer {
        Adapter* queue;
        bool refused = false;
        bool push(item v) {
            if (refused)
                for (int i = 0; i < 256; ++i) vdsokit::detail::cpu_relax();
            refused = !queue->push(v);
            return !refused;
        }
    };
    producer attach_producer() { return {this}; }
};
constexpr char xenium_waiting_name[] = "xenium vyukov_bounded_queue, same wait after a refused push";
constexpr char mpmc_ring_waiting_name[] = "vdsokit::mpmc_ring, same wait after a refused push";
using xenium_waiting_adapter = waiting_after_refusal<xenium_vyukov_adapter, xenium_waiting_name>;
using mpmc_ring_waiting_adapter = waiting_after_refusal<vdsokit_mpmc_ring_adapter, mpmc_ring_waiting_name>;

// Spin briefly, then give the core away: on a 2-core machine the peer may not be running.
template <class Ready>
void spin_until(Ready&& ready) {
    for (std::uint32_t spins = 0; !ready(); ++spins) {
        if (spins < 256) vdsokit::detail::cpu_relax();
        else sched_yield();
    }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;  // a column not measured for this row
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// Parent and child on different cores (when there are two), as a ping-pong between a kernel-side
// or daemon-side queue user and a client would be placed; the same for every method.
void pin_to_cpu(int cpu) {
    if (std::thread::hardware_concurrency() < 2) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

void unpin() {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned cpu = 0; cpu < std::thread::hardware_concurrency(); ++cpu) CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

// ns per push+pop pair on one thread.
template <class Adapter>
double single_thread_ns() {
    auto queue = std::make_unique<Adapter>();
    auto producer = attach_producer(*queue);
    auto consumer = attach_consumer(*queue);
    constexpr int operations = 2000000;
    item sink = 0, value = 0;
    for (int i = 0; i < operations / 10; ++i) {  // warm-up: caches, branch predictors, clock speed
        if (!producer.push(item(i)) || !consumer.pop(value)) std::abort();
    }
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < operations; ++i) {
        if (!producer.push(item(i))) std::abort();
        if (!consumer.pop(value)) std::abort();
        sink += value;
    }
    const double elapsed = seconds_since(start);
    if (sink == 42) std::puts("");
    return elapsed * 1e9 / operations;
}

// On full or empty: pause a little, and give the core away only after many failures (4 threads
// on 2 cores need it; 2 pinned threads should not pay a syscall per miss).
void back_off(std::uint32_t& failures) {
    if (++failures < 64) vdsokit::detail::cpu_relax();
    else std::this_thread::yield(), failures = 0;
}

// Million items per second with P producers and C consumers, and how often a push found the
// queue full and a pop found it empty (per item moved): which side waits for which.
struct throughput {
    double mops, full_per_item, empty_per_item;
};
template <class Adapter>
throughput measure_throughput(int producers, int consumers) {
    auto queue = std::make_unique<Adapter>();
    constexpr std::uint64_t items_per_producer = 1000000;
    const std::uint64_t total = items_per_producer * std::uint64_t(producers);
    std::atomic<std::uint64_t> consumed{0}, checksum{0}, refused_pushes{0}, refused_pops{0};
    std::atomic<bool> go{false};
    // Sized up front and assigned: GCC 12 warns falsely (-Warray-bounds) about emplace_back's
    // reallocation path for std::thread once this function is inlined.
    std::vector<std::thread> threads(std::size_t(producers + consumers));
    // Producer i and consumer i on different cores (the same placement for every queue).
    for (int p = 0; p < producers; ++p)
        threads[std::size_t(p)] = std::thread([&, p] {
            pin_to_cpu(p % 2 == 0 ? 0 : 1);
            auto producer = attach_producer(*queue);
            while (!go.load()) {}
            std::uint64_t refused = 0;
            std::uint32_t failures = 0;
            for (std::uint64_t i = 1; i <= items_per_producer;) {
                if (producer.push(i)) ++i, failures = 0;
                else ++refused, back_off(failures);
            }
            refused_pushes.fetch_add(refused);
        });
    for (int c = 0; c < consumers; ++c)
        threads[std::size_t(producers + c)] = std::thread([&, c] {
            pin_to_cpu(c % 2 == 0 ? 1 : 0);
            auto consumer = attach_consumer(*queue);
            while (!go.load()) {}
            item value, sum = 0;
            std::uint64_t mine = 0;
            std::uint64_t refused = 0;
            std::uint32_t failures = 0;
            while (consumed.load(std::memory_order_relaxed) < total) {
                if (consumer.pop(value)) {
                    sum += value;
                    if (++mine % 256 == 0) consumed.fetch_add(256);
                    failures = 0;
                } else {
                    consumed.fetch_add(mine % 256);
                    mine -= mine % 256;
                    ++refused;
                    back_off(failures);
                }
            }
            checksum.fetch_add(sum);
            refused_pops.fetch_add(refused);
        });
    const auto start = std::chrono::steady_clock::now();
    go.store(true);
    for (auto& thread : threads) thread.join();
    const double elapsed = seconds_since(start);
    if (checksum.load() != std::uint64_t(producers) * items_per_producer * (items_per_producer + 1) / 2) {
        std::fprintf(stderr, "%s lost items\n", Adapter::name);
        std::exit(1);
    }
    return {double(total) / elapsed / 1e6, double(refused_pushes.load()) / double(total),
            double(refused_pops.load()) / double(total)};
}

// --- batches and push_slot -------------------------------------------------------------------------

// Eight items per call. Ours in bulk mode (all or nothing) or in bursts; moodycamel's enqueue_bulk
// (all or nothing, allocating when full) and try_dequeue_bulk (as many as there are, up to 8):
// no other peer has batches.
constexpr std::size_t batch_size = 8;
struct deque_batches {
    static constexpr const char* name = "vdsokit::deque, bulk";
    vdsokit::deque<item, capacity> queue;
    struct producer {
        vdsokit::deque<item, capacity>::pusher pusher;
        bool push(std::span<const item> items) {
            return pusher.push_multiple(vdsokit::deque_end::back, items, vdsokit::batch_mode::bulk) == items.size();
        }
    };
    struct consumer {
        vdsokit::deque<item, capacity>* queue;
        std::size_t pop(std::span<item> out) {
            return queue->pop_multiple(vdsokit::deque_end::front, out, vdsokit::batch_mode::bulk);
        }
    };
    producer attach_producer() { return {queue.attach_pusher()}; }
    consumer attach_consumer() { return {&queue}; }
};
// A burst may stop part way (one plain push per element): the rest follows at once.
template <class PushBurst>
bool push_whole_burst(std::span<const item> items, PushBurst&& push_burst) {
    std::size_t pushed = push_burst(items);
    while (pushed != 0 && pushed < items.size()) {
        vdsokit::detail::cpu_relax();
        pushed += push_burst(items.subspan(pushed));
    }
    return pushed == items.size();
}

template <vdsokit::batch_mode Mode>
struct split_deque_batches {
    static constexpr const char* name =
        Mode == vdsokit::batch_mode::bulk ? "vdsokit::split_deque, bulk" : "vdsokit::split_deque, burst";
    vdsokit::split_deque<item, capacity> queue;
    struct producer {
        vdsokit::split_deque<item, capacity>* queue;
        bool push(std::span<const item> items) {
            if (Mode == vdsokit::batch_mode::bulk)
                return queue->push_multiple(vdsokit::deque_end::back, items, Mode) == items.size();
            return push_whole_burst(items, [&](std::span<const item> rest) {
                return queue->push_multiple(vdsokit::deque_end::back, rest, Mode);
            });
        }
    };
    struct consumer {
        vdsokit::split_deque<item, capacity>* queue;
        std::size_t pop(std::span<item> out) { return queue->pop_multiple(vdsokit::deque_end::front, out, Mode); }
    };
    producer attach_producer() { return {&queue}; }
    consumer attach_consumer() { return {&queue}; }
};
// Bursts through the streaming handles: a trailing_producer per producer, a trailing_consumer per
// consumer.
struct split_deque_handle_bursts {
    static constexpr const char* name = "vdsokit::split_deque, burst through trailing handles";
    using deque_type = vdsokit::split_deque<item, capacity>;
    deque_type queue;
    struct producer {
        deque_type::trailing_producer trailing;
        bool push(std::span<const item> items) {
            return push_whole_burst(items, [&](std::span<const item> rest) { return trailing.push_burst(rest); });
        }
    };
    struct consumer {
        deque_type::trailing_consumer trailing;
        std::size_t pop(std::span<item> out) { return trailing.pop_burst(out); }
    };
    producer attach_producer() { return {deque_type::trailing_producer(queue)}; }
    consumer attach_consumer() { return {deque_type::trailing_consumer(queue)}; }
};
struct moodycamel_batches {
    static constexpr const char* name = "moodycamel::ConcurrentQueue enqueue_bulk / try_dequeue_bulk";
    moodycamel::ConcurrentQueue<item> queue{capacity};
    struct producer {
        moodycamel::ConcurrentQueue<item>* queue;
        moodycamel::ProducerToken token;
        bool push(std::span<const item> items) { return queue->enqueue_bulk(token, items.data(), items.size()); }
    };
    struct consumer {
        moodycamel::ConcurrentQueue<item>* queue;
        moodycamel::ConsumerToken token;
        std::size_t pop(std::span<item> out) { return queue->try_dequeue_bulk(token, out.data(), out.size()); }
    };
    producer attach_producer() { return {&queue, moodycamel::ProducerToken(queue)}; }
    consumer attach_consumer() { return {&queue, moodycamel::ConsumerToken(queue)}; }
};

// A push_slot per item (each claim retried until granted), burst pops: push slots across cores.
template <class Deque>
struct push_slot_batches {
    static constexpr const char* name = "push_slot";
    Deque queue;
    struct producer {
        Deque* queue;
        bool push(std::span<const item> items) {
            for (const item value : items) {
                for (;;) {
                    auto slot = queue->push_slot(vdsokit::deque_end::back);
                    if (slot) {
                        slot.value() = value;
                        break;
                    }
                    vdsokit::detail::cpu_relax();
                }
            }
            return true;
        }
    };
    struct consumer {
        Deque* queue;
        std::size_t pop(std::span<item> out) { return queue->pop_multiple(vdsokit::deque_end::front, out, vdsokit::batch_mode::burst); }
    };
    producer attach_producer() { return {&queue}; }
    consumer attach_consumer() { return {&queue}; }
};

// ns per item: a batch pushed, then popped, on one thread.
template <class Batches>
double batch_single_thread_ns() {
    auto queue = std::make_unique<Batches>();
    auto producer = queue->attach_producer();
    auto consumer = queue->attach_consumer();
    constexpr int batches = 250000;
    item in[batch_size], out[batch_size], sink = 0;
    const auto run = [&](int count) {
        for (int b = 0; b < count; ++b) {
            for (std::size_t i = 0; i < batch_size; ++i) in[i] = item(b) * batch_size + i;
            if (!producer.push(in) || consumer.pop(out) != batch_size) std::abort();
            sink += out[batch_size - 1];
        }
    };
    run(batches / 10);  // warm-up
    const auto start = std::chrono::steady_clock::now();
    run(batches);
    const double elapsed = seconds_since(start);
    if (sink == 42) std::puts("");
    return elapsed * 1e9 / (double(batches) * batch_size);
}

// Million items per second, one producer pushing batches and one consumer popping them.
template <class Batches>
double batch_one_to_one_mops() {
    auto queue = std::make_unique<Batches>();
    constexpr std::uint64_t batches = 200000, total = batches * batch_size;
    std::atomic<bool> go{false};
    std::atomic<std::uint64_t> checksum{0};
    std::thread producer_thread([&] {
        pin_to_cpu(0);
        auto producer = queue->attach_producer();
        while (!go.load()) {}
        item in[batch_size];
        std::uint32_t failures = 0;
        for (std::uint64_t b = 0; b < batches;) {
            for (std::size_t i = 0; i < batch_size; ++i) in[i] = b * batch_size + i + 1;
            if (producer.push(in)) ++b, failures = 0;
            else back_off(failures);
        }
    });
    std::thread consumer_thread([&] {
        pin_to_cpu(1);
        auto consumer = queue->attach_consumer();
        while (!go.load()) {}
        item out[batch_size], sum = 0;
        std::uint32_t failures = 0;
        for (std::uint64_t got = 0; got < total;) {
            const std::size_t n = consumer.pop(out);
            for (std::size_t i = 0; i < n; ++i) sum += out[i];
            if (n != 0) got += n, failures = 0;
            else back_off(failures);
        }
        checksum.store(sum);
    });
    const auto start = std::chrono::steady_clock::now();
    go.store(true);
    producer_thread.join();
    consumer_thread.join();
    const double elapsed = seconds_since(start);
    if (checksum.load() != total * (total + 1) / 2) {
        std::fprintf(stderr, "%s lost items\n", Batches::name);
        std::exit(1);
    }
    return double(total) / elapsed / 1e6;
}

// ns per element: claim a place, fill it, publish, pop (nobody else has a push_slot).
template <class Deque, class Claim>
double push_slot_single_thread_ns(Claim&& claim) {
    auto deque = std::make_unique<Deque>();
    constexpr int operations = 1000000;
    item value = 0, sink = 0;
    const auto run = [&](int count) {
        for (int i = 0; i < count; ++i) {
            {
                auto slot = claim(*deque);
                if (!slot) std::abort();
                slot.value() = item(i);
            }
            if (!deque->pop_front(value)) std::abort();
            sink += value;
        }
    };
    run(operations / 10);
    const auto start = std::chrono::steady_clock::now();
    run(operations);
    const double elapsed = seconds_since(start);
    if (sink == 42) std::puts("");
    return elapsed * 1e9 / operations;
}

void report_batches() {
    constexpr auto bulk = vdsokit::batch_mode::bulk, burst = vdsokit::batch_mode::burst;
    struct batch_row {
        const char* name;
        double (*single)();
        double (*one_to_one)();
        std::vector<double> single_ns, mops;
    };
    batch_row rows[] = {
        {deque_batches::name, batch_single_thread_ns<deque_batches>, batch_one_to_one_mops<deque_batches>, {}, {}},
        {split_deque_batches<bulk>::name, batch_single_thread_ns<split_deque_batches<bulk>>,
         batch_one_to_one_mops<split_deque_batches<bulk>>, {}, {}},
        {split_deque_batches<burst>::name, batch_single_thread_ns<split_deque_batches<burst>>,
         batch_one_to_one_mops<split_deque_batches<burst>>, {}, {}},
        {split_deque_handle_bursts::name, batch_single_thread_ns<split_deque_handle_bursts>,
         batch_one_to_one_mops<split_deque_handle_bursts>, {}, {}},
        {moodycamel_batches::name, batch_single_thread_ns<moodycamel_batches>, batch_one_to_one_mops<moodycamel_batches>, {}, {}},
    };
    using deque_type = vdsokit::deque<item, capacity>;
    using split_type = vdsokit::split_deque<item, capacity>;
    std::vector<double> deque_slot, split_slot, deque_slot_mops, split_slot_mops;
    for (int r = 0; r < repetitions; ++r) {
        pin_to_cpu(0);
        for (batch_row& row : rows) row.single_ns.push_back(row.single());
        deque_slot.push_back(push_slot_single_thread_ns<deque_type>([](deque_type& d) { return d.push_slot(vdsokit::deque_end::back); }));
        split_slot.push_back(push_slot_single_thread_ns<split_type>([](split_type& d) { return d.push_slot(vdsokit::deque_end::back); }));
        unpin();
        for (batch_row& row : rows) row.mops.push_back(row.one_to_one());
        deque_slot_mops.push_back(batch_one_to_one_mops<push_slot_batches<deque_type>>());
        split_slot_mops.push_back(batch_one_to_one_mops<push_slot_batches<split_type>>());
    }
    const batch_row& peer = rows[std::size(rows) - 1];
    const double peer_single = median(peer.single_ns), peer_mops = median(peer.mops);
    std::printf("\nBatches of %zu (medians of %d runs): ns per item for a batch pushed then popped on one thread, "
                "and million items per second with one producer and one consumer on different cores. Ratios are "
                "against moodycamel, the one peer with batches; its pops take as many as there are (ours in bulk "
                "mode: all or nothing), and its pushes allocate when full (ours refuse).\n\n",
                batch_size, repetitions);
    std::printf("| batches | 1 thread ns per item | ratio | 1P1C Mitems/s | ratio |\n|---|---:|---:|---:|---:|\n");
    for (const batch_row& row : rows)
        std::printf("| %s | %.1f | %.2fx | %.1f | %.2fx |\n", row.name, median(row.single_ns),
                    median(row.single_ns) / peer_single, median(row.mops), median(row.mops) / peer_mops);
    std::printf("\npush_slot (claim, fill, publish) then pop_front, ns per element on one thread (no peer has one): "
                "vdsokit::deque %.1f, vdsokit::split_deque %.1f. One producer pushing through push slots and one "
                "consumer popping bursts, M items/s: vdsokit::deque %.1f, vdsokit::split_deque %.1f.\n",
                median(deque_slot), median(split_slot), median(deque_slot_mops), median(split_slot_mops));
}

// --- cross-process round trips ----------------------------------------------------------------------

struct shared_rings {
    vdsokit::spsc_ring<item, 64> ping, pong;
    vdsokit::deque<item, 64> deque_ping, deque_pong;
    vdsokit::split_deque<item, 64> split_ping, split_pong;
    vdsokit::shared_event ping_event, pong_event;
};

template <class Shared>
Shared* map_shared(int fd) {
    void* view = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (view == MAP_FAILED) std::abort();
    return static_cast<Shared*>(view);
}

// One child answers `rounds` requests; returns microseconds per round trip (median of repetitions).
double round_trip_us(const char* method, int rounds) {
    std::vector<double> samples;
    for (int repetition = 0; repetition < repetitions; ++repetition) {
        const int fd = memfd_create("vdsokit-bench", 0);
        if (fd < 0 || ftruncate(fd, sizeof(shared_rings)) != 0) std::abort();
        auto* parent_view = new (map_shared<shared_rings>(fd)) shared_rings();
        int to_child[2], to_parent[2];
        const std::string kind = method;
        if (kind == "pipe") {
            if (pipe(to_child) || pipe(to_parent)) std::abort();
        } else if (kind == "socketpair") {
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, to_child)) std::abort();
            to_parent[0] = to_child[0], to_parent[1] = to_child[1];
        } else if (kind == "eventfd") {
            to_child[0] = to_child[1] = eventfd(0, 0);
            to_parent[0] = to_parent[1] = eventfd(0, 0);
        }
        // Child and parent each map the file again: the shared rings sit at different addresses.
        const pid_t child = fork();
        if (child == 0) {
            pin_to_cpu(1);
            auto& own = *map_shared<shared_rings>(fd);
            vdsokit::spsc_ring<item, 64>::consumer ping(own.ping);
            vdsokit::spsc_ring<item, 64>::trailing_consumer trailing_ping(own.ping);
            vdsokit::spsc_ring<item, 64>::producer pong(own.pong);
            auto deque_pong = own.deque_pong.attach_pusher();
            vdsokit::split_deque<item, 64>::trailing_consumer split_ping(own.split_ping);
            vdsokit::split_deque<item, 64>::trailing_producer split_pong(own.split_pong);
            for (int i = 0; i < rounds; ++i) {
                item value = 0;
                if (kind == "spsc_ring spin/yield") {
                    spin_until([&] { return ping.pop(value); });
                    (void)pong.push(value + 1), pong.submit();
                } else if (kind == "spsc_ring trailing_consumer spin/yield") {
                    spin_until([&] { return trailing_ping.pop(value); });
                    (void)pong.push(value + 1), pong.submit();
                } else if (kind == "deque spin/yield") {
                    spin_until([&] { return own.deque_ping.pop_front(value); });
                    (void)deque_pong.push_back(value + 1);
                } else if (kind == "split_deque spin/yield") {
                    spin_until([&] { return own.split_ping.pop_front(value); });
                    (void)own.split_pong.push_back(value + 1);
                } else if (kind == "split_deque trailing handles spin/yield") {
                    spin_until([&] { return split_ping.pop_front(value); });
                    (void)split_pong.push_back(value + 1);
                } else if (kind == "spsc_ring + futex") {
                    while (!ping.pop(value)) {
                        const std::uint32_t ticket = own.ping_event.prepare_wait();
                        if (ping.ready() == 0) own.ping_event.wait(ticket, 0);
                    }
                    (void)pong.push(value + 1), pong.submit();
                    own.pong_event.notify_all();
                } else if (kind == "eventfd") {
                    std::uint64_t count;
                    if (read(to_child[0], &count, 8) != 8 || write(to_parent[1], &count, 8) != 8) _exit(1);
                } else {
                    char byte;
                    if (read(kind == "socketpair" ? to_child[1] : to_child[0], &byte, 1) != 1) _exit(1);
                    if (write(kind == "socketpair" ? to_child[1] : to_parent[1], &byte, 1) != 1) _exit(1);
                }
            }
            _exit(0);
        }
        pin_to_cpu(0);
        auto& own = *map_shared<shared_rings>(fd);  // the parent's own second view
        (void)parent_view;
        vdsokit::spsc_ring<item, 64>::producer ping(own.ping);
        vdsokit::spsc_ring<item, 64>::consumer pong(own.pong);
        vdsokit::spsc_ring<item, 64>::trailing_consumer trailing_pong(own.pong);
        auto deque_ping = own.deque_ping.attach_pusher();
        vdsokit::split_deque<item, 64>::trailing_consumer split_pong(own.split_pong);
        vdsokit::split_deque<item, 64>::trailing_producer split_ping(own.split_ping);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < rounds; ++i) {
            item value = 0;
            if (kind == "spsc_ring spin/yield") {
                (void)ping.push(item(i)), ping.submit();
                spin_until([&] { return pong.pop(value); });
            } else if (kind == "spsc_ring trailing_consumer spin/yield") {
                (void)ping.push(item(i)), ping.submit();
                spin_until([&] { return trailing_pong.pop(value); });
            } else if (kind == "deque spin/yield") {
                (void)deque_ping.push_back(item(i));
                spin_until([&] { return own.deque_pong.pop_front(value); });
            } else if (kind == "split_deque spin/yield") {
                (void)own.split_ping.push_back(item(i));
                spin_until([&] { return own.split_pong.pop_front(value); });
            } else if (kind == "split_deque trailing handles spin/yield") {
                (void)split_ping.push_back(item(i));
                spin_until([&] { return split_pong.pop_front(value); });
            } else if (kind == "spsc_ring + futex") {
                (void)ping.push(item(i)), ping.submit();
                own.ping_event.notify_all();
                while (!pong.pop(value)) {
                    const std::uint32_t ticket = own.pong_event.prepare_wait();
                    if (pong.ready() == 0) own.pong_event.wait(ticket, 0);
                }
            } else if (kind == "eventfd") {
                std::uint64_t count = 1;
                if (write(to_child[1], &count, 8) != 8 || read(to_parent[0], &count, 8) != 8) std::abort();
            } else {
                char byte = 1;
                if (write(kind == "socketpair" ? to_child[0] : to_child[1], &byte, 1) != 1) std::abort();
                if (read(kind == "socketpair" ? to_child[0] : to_parent[0], &byte, 1) != 1) std::abort();
            }
        }
        const double elapsed = seconds_since(start);
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::abort();
        unpin();
        samples.push_back(elapsed * 1e6 / rounds);
        close(fd);
        if (kind == "pipe") close(to_child[0]), close(to_child[1]), close(to_parent[0]), close(to_parent[1]);
        if (kind == "socketpair") close(to_child[0]), close(to_child[1]);
        if (kind == "eventfd") close(to_child[0]), close(to_parent[0]);
    }
    return median(samples);
}

// --- what the machine allows --------------------------------------------------------------------

// ns for one cache line to travel between the two cores (half a ping-pong round trip): a queue
// whose every item needs one shared word handed over cannot exceed 1000 / this M items/s.
double line_transfer_ns() {
    alignas(64) static std::atomic<std::uint64_t> flag{0};
    constexpr std::uint64_t rounds = 100000;
    flag.store(0);
    std::thread other([] {
        pin_to_cpu(1);
        for (std::uint64_t i = 0; i < rounds; ++i) {
            while (flag.load(std::memory_order_acquire) != 2 * i + 1) vdsokit::detail::cpu_relax();
            flag.store(2 * i + 2, std::memory_order_release);
        }
    });
    pin_to_cpu(0);
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < rounds; ++i) {
        flag.store(2 * i + 1, std::memory_order_release);
        while (flag.load(std::memory_order_acquire) != 2 * i + 2) vdsokit::detail::cpu_relax();
    }
    const double elapsed = seconds_since(start);
    other.join();
    unpin();
    return elapsed * 1e9 / rounds / 2;
}

// ns for two dependent compare-and-swaps on one thread: the floor of a push+pop that needs one CAS
// each. Vyukov's queue uses 8-byte ones; vdsokit's deque anchor is a 16-byte word (the same
// primitive as the deque's, as this build compiles it).
double two_cas_ns(bool wide) {
    alignas(64) static std::atomic<std::uint64_t> narrow_word{0};
    alignas(64) static vdsokit::detail::lockfree_wide_word wide_word;
    constexpr int pairs = 5000000;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 2 * pairs; ++i) {
        if (wide) {
            const auto seen = vdsokit::detail::load_validated(wide_word);
            vdsokit::detail::compare_exchange_wide(wide_word, seen, {seen.low, seen.high + 1});
        } else {
            std::uint64_t seen = narrow_word.load(std::memory_order_acquire);
            narrow_word.compare_exchange_strong(seen, seen + 1);
        }
    }
    return seconds_since(start) * 1e9 / pairs;
}

// What committing each element with a locked read-modify-write of its cell costs across cores,
// when nothing hides it. A queue in which a thread stopped mid-operation blocks nobody must
// publish an element and take its cell in one atomic step, so on the cell itself. Vyukov's ring
// (mpmc_ring, xenium) instead claims a position on a counter and then writes the cell with plain
// stores, which the store buffer overlaps with the next operation; a thread stopped between the
// two blocks that cell for ever. This is mpmc_ring with those two stores made CASes of the same
// words: nothing else differs, so its throughput against mpmc_ring's is the price of a locked
// commit that waits for its line (split_deque asks for its lines ahead to avoid the wait).
struct locked_commit_ring_adapter {
    static constexpr const char* name = "mpmc_ring with locked cell commits";
    static constexpr bool multi = true;
    struct cell {
        std::atomic<std::uint64_t> sequence{0};
        std::atomic<item> value{0};
    };
    alignas(64) std::atomic<std::uint64_t> enqueue_position{0};
    alignas(64) std::atomic<std::uint64_t> dequeue_position{0};
    alignas(64) cell cells[capacity];
    locked_commit_ring_adapter() {
        for (std::uint32_t i = 0; i < capacity; ++i) cells[i].sequence.store(i);
    }
    static void commit(std::atomic<std::uint64_t>& word, std::uint64_t value) {
        std::uint64_t seen = word.load(std::memory_order_relaxed);
        while (!word.compare_exchange_weak(seen, value)) {}
    }
    bool push(item v) {
        std::uint64_t position = enqueue_position.load(std::memory_order_relaxed);
        for (;;) {
            cell& target = cells[position % capacity];
            const std::int64_t difference = std::int64_t(target.sequence.load(std::memory_order_acquire) - position);
            if (difference == 0) {
                if (enqueue_position.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
                    commit(target.value, v);
                    commit(target.sequence, position + 1);
                    return true;
                }
            } else if (difference < 0) {
                return false;
            } else {
                position = enqueue_position.load(std::memory_order_relaxed);
            }
        }
    }
    bool pop(item& v) {
        std::uint64_t position = dequeue_position.load(std::memory_order_relaxed);
        for (;;) {
            cell& source = cells[position % capacity];
            const std::int64_t difference = std::int64_t(source.sequence.load(std::memory_order_acquire) - (position + 1));
            if (difference == 0) {
                if (dequeue_position.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
                    v = source.value.load(std::memory_order_relaxed);
                    commit(source.sequence, position + capacity);
                    return true;
                }
            } else if (difference < 0) {
                return false;
            } else {
                position = dequeue_position.load(std::memory_order_relaxed);
            }
        }
    }
};

// --- table ---------------------------------------------------------------------------------------

struct row {
    std::string name;
    bool multi, runs_2p2c;
    double single_ns, spsc_mops, mpmc_mops;
    double spsc_full_per_item, spsc_empty_per_item;  // 1P1C: how often each side found nothing to do
};

// One queue's samples. Every repetition measures every queue once, in turn, so that the drift of a
// shared machine over the minutes of a run (this VM's line transfer has moved from 30 to 200 ns)
// falls on all queues alike instead of on whichever was measured at the time. The single-thread
// samples of all queues are taken together, apart from the threaded runs, so that each follows
// the same thing (another single-thread sample) rather than whatever threaded run preceded it.
struct contender {
    const char* name;
    bool multi, runs_2p2c;
    void (*measure_single)(contender&);
    void (*measure_threaded)(contender&);
    std::vector<double> single, spsc, mpmc, spsc_full, spsc_empty;
    row summary() const {
        return {name, multi, runs_2p2c, median(single), median(spsc), runs_2p2c ? median(mpmc) : 0.0,
                median(spsc_full), median(spsc_empty)};
    }
};

// 2P2C runs for every MPMC queue unless its adapter says it cannot finish one.
template <class Adapter>
constexpr bool runs_2p2c() {
    if constexpr (requires { Adapter::runs_2p2c; }) return Adapter::runs_2p2c;
    else return Adapter::multi;
}

template <class Adapter>
contender contender_for() {
    return {Adapter::name, Adapter::multi, runs_2p2c<Adapter>(),
            [](contender& c) { c.single.push_back(single_thread_ns<Adapter>()); },
            [](contender& c) {
                const throughput one_to_one = measure_throughput<Adapter>(1, 1);
                c.spsc.push_back(one_to_one.mops);
                c.spsc_full.push_back(one_to_one.full_per_item);
                c.spsc_empty.push_back(one_to_one.empty_per_item);
                if (runs_2p2c<Adapter>()) c.mpmc.push_back(measure_throughput<Adapter>(2, 2).mops);
            },
            {}, {}, {}, {}, {}};
}

}  // namespace

// Queues at 1P1C, repetition by repetition, each repetition measuring them in turn right after
// the line transfer: on a machine whose state changes within a run, this attributes every figure
// to the state it saw.
template <class... Adapters>
void report_by_repetition() {
    std::printf("1P1C, M items/s, each repetition measuring every queue in turn right after the line "
                "transfer:\n\n| line ns |");
    (std::printf(" %s |", Adapters::name), ...);
    std::printf("\n|---:|");
    (((void)sizeof(Adapters), std::printf("---:|")), ...);
    std::printf("\n");
    for (int r = 0; r < repetitions; ++r) {
        std::printf("| %.0f |", line_transfer_ns());
        (std::printf(" %.1f |", measure_throughput<Adapters>(1, 1).mops), ...);
        std::printf("\n");
        std::fflush(stdout);
    }
}

int main(int argc, char** argv) {
    if (argc > 1) repetitions = std::max(1, std::atoi(argv[1]));
    const bool round_trips_only = argc > 2 && std::string(argv[2]) == "round-trips";
    if (argc > 2 && std::string(argv[2]) == "batches") {
        report_batches();
        return 0;
    }
    if (argc > 2 && (std::string(argv[2]) == "spsc" || std::string(argv[2]) == "split")) {
        std::thread([] {}).join();
        if (std::string(argv[2]) == "spsc")
            report_by_repetition<vdsokit_spsc_ring_adapter, vdsokit_spsc_ring_trailing_adapter, boost_spsc_adapter,
                                 vdsokit_mpmc_ring_adapter>();
        else
            report_by_repetition<vdsokit_split_deque_adapter, vdsokit_split_deque_trailing_adapter,
                                 vdsokit_split_deque_handles_adapter, moodycamel_adapter, xenium_vyukov_adapter,
                                 xenium_waiting_adapter>();
        return 0;
    }
    std::vector<row> rows;
    if (!round_trips_only) {
    std::vector<contender> contenders = {
        contender_for<vdsokit_deque_adapter>(),
        contender_for<vdsokit_split_deque_adapter>(),
        contender_for<vdsokit_split_deque_handles_adapter>(),
        contender_for<vdsokit_mpmc_ring_adapter>(),
        contender_for<mpmc_ring_waiting_adapter>(),
        contender_for<vdsokit_spsc_ring_adapter>(),
        contender_for<vdsokit_spsc_ring_trailing_adapter>(),
        contender_for<xenium_vyukov_adapter>(),
        contender_for<xenium_waiting_adapter>(),
#ifdef VDSOKIT_BENCH_HAS_ATOMIC_QUEUE
        contender_for<atomic_queue_adapter>(),
#endif
        contender_for<moodycamel_adapter>(),
        contender_for<moodycamel_bounded_adapter>(),
        contender_for<boost_queue_adapter>(),
        contender_for<boost_spsc_adapter>(),
        contender_for<mutex_ring_adapter>(),
    };
    contender locked_commit = contender_for<locked_commit_ring_adapter>();  // not a row: a floor
    // A queue's users are threads: glibc takes single-threaded shortcuts (std::mutex measured 7.6 ns
    // a push+pop instead of 27) until a process has started a thread.
    std::thread([] {}).join();
    pin_to_cpu(0);  // single-thread samples: always on the same core
    for (int r = 0; r < 3 * repetitions; ++r)  // cheap: three times the samples
        for (contender& c : contenders) c.measure_single(c);
    unpin();
    // The line transfer before each repetition and after the last: the state the threaded runs saw.
    double fastest_line = 1e30, slowest_line = 0;
    const auto note_line = [&] {
        const double ns = line_transfer_ns();
        fastest_line = std::min(fastest_line, ns), slowest_line = std::max(slowest_line, ns);
    };
    for (int r = 0; r < repetitions; ++r) {
        note_line();
        for (contender& c : contenders) c.measure_threaded(c);
        locked_commit.measure_threaded(locked_commit);
    }
    note_line();
    for (const contender& c : contenders) rows.push_back(c.summary());

    // Ratios compare like with like: multi-producer/consumer queues against the best MPMC peer,
    // single-producer/consumer queues against the best SPSC peer.
    double best_single[2] = {1e30, 1e30}, best_spsc[2] = {0, 0}, best_mpmc = 0;
    for (const row& r : rows) {
        if (r.name.rfind("vdsokit", 0) == 0) continue;  // best *peer*
        best_single[r.multi] = std::min(best_single[r.multi], r.single_ns);
        best_spsc[r.multi] = std::max(best_spsc[r.multi], r.spsc_mops);
        if (r.runs_2p2c) best_mpmc = std::max(best_mpmc, r.mpmc_mops);
    }
    std::printf("Medians of %d runs (each run measures every queue in turn; the single-thread column has "
                "three times the samples), capacity %u, 64-bit items, %u hardware threads. Ratios are against "
                "the best peer of the same kind (MPMC or SPSC): single-thread ns / best ns (lower is "
                "better); throughput ours / best (higher is better).\n\n",
                repetitions, capacity, std::thread::hardware_concurrency());
    std::printf("| queue | kind | 1 thread push+pop ns | ratio | 1P1C Mitems/s | ratio | 2P2C Mitems/s | ratio |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (const row& r : rows) {
        std::printf("| %s | %s | %.1f | %.2fx | %.1f | %.2fx |", r.name.c_str(), r.multi ? "MPMC" : "SPSC",
                    r.single_ns, r.single_ns / best_single[r.multi], r.spsc_mops, r.spsc_mops / best_spsc[r.multi]);
        if (r.runs_2p2c)
            std::printf(" %.1f | %.2fx |\n", r.mpmc_mops, r.mpmc_mops / best_mpmc);
        else
            std::printf(" n/a | |\n");
    }

    std::printf("\nWho waited for whom at 1P1C (median over the runs): pushes refused because the queue was "
                "full, and pops refused because it was empty, per item moved. A queue that never fills "
                "never makes its producer wait.\n\n| queue | full, per item | empty, per item |\n|---|---:|---:|\n");
    for (const row& r : rows)
        std::printf("| %s | %.3f | %.3f |\n", r.name.c_str(), r.spsc_full_per_item, r.spsc_empty_per_item);

    std::printf("\nWhat this machine allows: a cache line took %.0f-%.0f ns between the two cores during the "
                "threaded runs; two dependent 8-byte CASes take %.1f ns, two 16-byte CASes %.1f ns.\n",
                fastest_line, slowest_line, two_cas_ns(false), two_cas_ns(true));
    const row locked = locked_commit.summary();
    double ring_spsc = 0, ring_mpmc = 0;
    for (const row& r : rows)
        if (r.name == vdsokit_mpmc_ring_adapter::name) ring_spsc = r.spsc_mops, ring_mpmc = r.mpmc_mops;
    std::printf("\nThe price of committing each element with a locked read-modify-write of its cell (what a "
                "queue needs so that a thread stopped mid-operation blocks nobody) when the CAS waits for "
                "its line: mpmc_ring with its two cell stores made CASes moves %.1f M items/s at 1P1C and "
                "%.1f at 2P2C, %.2fx and %.2fx mpmc_ring itself.\n",
                locked.spsc_mops, locked.mpmc_mops, locked.spsc_mops / ring_spsc, locked.mpmc_mops / ring_mpmc);
    report_batches();
    }

    struct trip {
        const char* method;
        int rounds;
        double us;
    };
    trip trips[] = {{"spsc_ring spin/yield", 20000, 0}, {"spsc_ring trailing_consumer spin/yield", 20000, 0},
                    {"deque spin/yield", 20000, 0}, {"split_deque spin/yield", 20000, 0},
                    {"split_deque trailing handles spin/yield", 20000, 0}, {"spsc_ring + futex", 5000, 0},
                    {"pipe", 5000, 0}, {"eventfd", 5000, 0}, {"socketpair", 5000, 0}};
    double pipe_us = 0;
    for (trip& t : trips) {
        t.us = round_trip_us(t.method, t.rounds);
        if (std::string(t.method) == "pipe") pipe_us = t.us;
    }
    std::printf("\nCross-process round trip (two processes, shared memfd mapped at different addresses):\n\n");
    std::printf("| method | round trip us | speed-up vs pipe |\n|---|---:|---:|\n");
    for (const trip& t : trips) std::printf("| %s | %.2f | %.1fx |\n", t.method, t.us, pipe_us / t.us);
    return 0;
}
