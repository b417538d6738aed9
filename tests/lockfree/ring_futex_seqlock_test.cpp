// The FIFO rings, the cross-process futex wait and the seqlock: threaded and across fork()ed
// processes that map the same memfd at different addresses.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vdsokit/futex.hpp>
#include <vdsokit/ring.hpp>
#include <vdsokit/seqlock.hpp>

#include "stress_support.hpp"

namespace {

constinit vdsokit::spsc_ring<std::uint32_t, 4> global_ring;
constinit vdsokit::mpmc_ring<std::uint32_t, 4> global_mpmc_ring;
constinit vdsokit::shared_event global_event;
constinit vdsokit::seqlock<std::uint64_t> global_seqlock;

int wait_child(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_CASE("an spsc ring makes claimed entries visible only on submit", "[ring]") {
    vdsokit::spsc_ring<std::uint32_t, 4>::producer producer(global_ring);
    vdsokit::spsc_ring<std::uint32_t, 4>::consumer consumer(global_ring);
    REQUIRE(producer.push(1));
    *producer.claim() = 2;
    REQUIRE(consumer.ready() == 0);
    REQUIRE(producer.unsubmitted() == 2);
    REQUIRE(producer.submit() == 2);
    REQUIRE(producer.unsubmitted() == 0);
    REQUIRE(producer.submit() == 0);
    REQUIRE(consumer.ready() == 2);
    const std::uint32_t burst[3] = {3, 4, 5};
    REQUIRE(producer.push_burst(burst) == 2);  // full at 4
    REQUIRE(producer.claim() == nullptr);
    producer.submit();
    REQUIRE(*consumer.peek(3) == 4);
    consumer.note_dropped();
    consumer.advance(1);
    std::uint32_t out[8] = {};
    REQUIRE(consumer.pop_burst(out) == 3);
    REQUIRE(out[0] == 2);
    REQUIRE(out[2] == 4);
    REQUIRE(global_ring.dropped() == 1);
    REQUIRE(global_ring.size() == 0);
    REQUIRE(consumer.peek() == nullptr);
    std::uint32_t value = 0;
    REQUIRE_FALSE(consumer.pop(value));
}

// A small xorshift generator: the tests' random choices are reproducible.
struct xorshift {
    std::uint32_t state;
    std::uint32_t operator()() {
        state ^= state << 13, state ^= state >> 17, state ^= state << 5;
        return state;
    }
};

// The consumer reads in every way it can (pop, bursts, peek + advance), the producer pushes
// bursts and submits them; every value must arrive once, in order.
template <std::uint32_t Capacity, class Consumer>
void check_threaded_stream(std::uint64_t items, std::uint32_t seed) {
    using ring_type = vdsokit::spsc_ring<std::uint64_t, Capacity>;
    auto ring = std::make_unique<ring_type>();
    std::thread producer_thread([&] {
        typename ring_type::producer producer(*ring);
        std::uint64_t batch[7];
        for (std::uint64_t next = 0; next < items;) {
            std::size_t want = 0;
            for (; want < 7 && next + want < items; ++want) batch[want] = next + want;
            next += producer.push_burst(std::span(batch, want));
            if (producer.submit() == 0) std::this_thread::yield();
        }
    });
    Consumer consumer(*ring);
    xorshift random{seed};
    std::uint64_t expected = 0, out[5];
    bool in_order = true;
    while (expected < items) {
        std::size_t got = 0;
        switch (random() % 3) {
            case 0:
                got = consumer.pop(out[0]) ? 1 : 0;
                break;
            case 1:
                got = consumer.pop_burst(out);
                break;
            default:
                for (; got < 5 && consumer.peek(std::uint32_t(got)) != nullptr; ++got)
                    out[got] = *consumer.peek(std::uint32_t(got));
                consumer.advance(std::uint32_t(got));
        }
        for (std::size_t i = 0; i < got; ++i) in_order = in_order && out[i] == expected++;
        if (got == 0) std::this_thread::yield();
    }
    producer_thread.join();
    REQUIRE(in_order);
    REQUIRE(consumer.ready() == 0);
}

TEST_CASE("an spsc ring delivers a threaded stream in order", "[ring][stress]") {
    constexpr std::uint64_t items = 2000000 / vdsokit_test::stress_divisor;
    using small = vdsokit::spsc_ring<std::uint64_t, 64>;
    using large = vdsokit::spsc_ring<std::uint64_t, 1024>;
    SECTION("plain consumer") { check_threaded_stream<64, small::consumer>(items, 1); }
    SECTION("trailing consumer, capacity 64") { check_threaded_stream<64, small::trailing_consumer>(items, 2); }
    SECTION("trailing consumer, capacity 1024") { check_threaded_stream<1024, large::trailing_consumer>(items, 3); }
    SECTION("trailing consumer, capacity 8: it is the plain consumer") {
        check_threaded_stream<8, vdsokit::spsc_ring<std::uint64_t, 8>::trailing_consumer>(items / 4, 4);
    }
}

TEST_CASE("a trailing consumer stays behind a streaming producer and takes the rest when it stops", "[ring]") {
    using ring_type = vdsokit::spsc_ring<std::uint64_t, 1024>;
    auto ring = std::make_unique<ring_type>();
    ring_type::producer producer(*ring);
    const auto push = [&](std::uint64_t first, std::uint64_t count) {
        for (std::uint64_t value = first; value < first + count; ++value) REQUIRE(producer.push(value));
        producer.submit();
    };
    std::uint64_t next = 0;
    const auto take = [&](auto& consumer, std::uint32_t count) {
        bool in_order = true;
        for (std::uint32_t i = 0; i < count; ++i) {
            std::uint64_t value = 0;
            in_order = in_order && consumer.pop(value) && value == next++;
        }
        return in_order;
    };

    ring_type::trailing_consumer trailing(*ring);
    push(0, 600);  // the tail moved far since the consumer's last look: the producer is streaming
    const std::uint32_t first_look = trailing.ready();
    INFO("first look: " << first_look << " of 600");
    CHECK(first_look > 0);
    CHECK(first_look < 600);  // it left the lines near the tail to the producer
    REQUIRE(take(trailing, first_look));
    // The tail has not moved since: the producer stopped, so the consumer takes the rest.
    REQUIRE(trailing.ready() == 600 - first_look);
    REQUIRE(take(trailing, 600 - first_look));
    REQUIRE(trailing.ready() == 0);

    // A few lines' worth, too close to trail behind: one short wait for more, none comes, and
    // the consumer takes them all.
    push(600, 20);
    REQUIRE(trailing.ready() == 20);
    REQUIRE(take(trailing, 20));
    // Less than a line since the last look (as one thread that pushes and pops sees): no wait.
    for (std::uint64_t round = 0; round < 1000; ++round) {
        push(620 + round, 1);
        REQUIRE(trailing.ready() == 1);
        REQUIRE(take(trailing, 1));
    }

    // A look never takes back what ready() reported: the tail moves on while the cache holds
    // entries that a look at the new tail alone would leave to the producer.
    push(next, 200);
    const std::uint32_t trailed = trailing.ready();
    REQUIRE(take(trailing, trailed));
    const std::uint32_t held = trailing.ready();
    REQUIRE(held == 200 - trailed);
    push(next + held, 100);
    std::uint64_t out[300];
    const std::size_t got = trailing.pop_burst(out);
    CHECK(got >= held);
    bool burst_in_order = true;
    for (std::size_t i = 0; i < got; ++i) burst_in_order = burst_in_order && out[i] == next++;
    REQUIRE(burst_in_order);
    while (trailing.ready() != 0) REQUIRE(take(trailing, trailing.ready()));

    // The plain consumer sees everything that is published.
    ring_type::consumer plain(*ring);
    push(next, 600);
    REQUIRE(plain.ready() == 600);
    REQUIRE(take(plain, 600));
}

// Random pushes, submits and reads on one thread against a model: a consumer never sees what is
// not submitted, never sees less than before without consuming, and loses nothing.
template <class Consumer>
void check_against_model(std::uint32_t seed) {
    using ring_type = vdsokit::spsc_ring<std::uint64_t, 256>;
    auto ring = std::make_unique<ring_type>();
    typename ring_type::producer producer(*ring);
    Consumer consumer(*ring);
    xorshift random{seed};
    std::uint64_t pushed = 0, submitted = 0, consumed = 0;
    std::uint32_t last_ready = 0;
    bool right = true;
    for (int step = 0; step < 200000; ++step) {
        const std::uint32_t choice = random() % 8;
        if (choice < 3) {  // push a burst of 1 to 10, as far as it fits: often full, often empty
            const std::uint64_t want = 1 + random() % 10;
            std::uint64_t values[10];
            for (std::uint64_t i = 0; i < want; ++i) values[i] = pushed + i;
            pushed += producer.push_burst(std::span(values, want));
            right = right && pushed - consumed <= 256;
        } else if (choice == 3) {
            submitted += producer.submit();
            right = right && submitted == pushed;
        } else {
            const std::uint32_t ready = consumer.ready();
            right = right && ready <= submitted - consumed && ready >= last_ready;
            right = right && (ready > 0 || submitted == consumed);  // nothing published stays hidden
            std::uint64_t out[16];
            const std::size_t got = choice == 4 ? consumer.pop_burst(out) : (consumer.pop(out[0]) ? 1 : 0);
            // What ready() reported stays ready: a read takes at least that much.
            right = right && got >= (choice == 4 ? std::min<std::size_t>(ready, 16) : std::min<std::size_t>(ready, 1));
            for (std::size_t i = 0; i < got; ++i) right = right && out[i] == consumed++;
            right = right && consumed <= submitted;
            last_ready = consumer.ready();
        }
        if (!right) break;
    }
    submitted += producer.submit();
    std::uint64_t value = 0;
    for (int looks = 0; consumed < submitted && looks < 4; ++looks)
        while (consumer.pop(value)) right = right && value == consumed++;
    INFO("seed " << seed << ": pushed " << pushed << ", submitted " << submitted << ", consumed " << consumed);
    REQUIRE(right);
    REQUIRE(consumed == submitted);
}

TEST_CASE("spsc ring consumers agree with a FIFO model under random pushes, submits and reads", "[ring]") {
    using ring_type = vdsokit::spsc_ring<std::uint64_t, 256>;
    for (std::uint32_t seed = 1; seed <= 4; ++seed) {
        check_against_model<ring_type::consumer>(seed);
        check_against_model<ring_type::trailing_consumer>(seed);
    }
}

TEST_CASE("an mpmc ring accounts for every item with two producers and two consumers", "[ring][stress]") {
    std::uint32_t value = 0;
    REQUIRE(global_mpmc_ring.push(1));
    REQUIRE(global_mpmc_ring.pop(value));
    REQUIRE_FALSE(global_mpmc_ring.pop(value));

    auto ring = std::make_unique<vdsokit::mpmc_ring<std::uint64_t, 8>>();
    constexpr std::uint32_t producers = 2, items = 300000 / vdsokit_test::stress_divisor;
    using ledger_type = vdsokit_test::exactly_once_ledger<producers, items>;
    auto ledger = std::make_unique<ledger_type>();
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            for (std::uint32_t s = 0; s < items;)
                if (ring->push(vdsokit_test::make_item(p, s))) ++s;
                else std::this_thread::yield();
        });
    std::atomic<std::uint64_t> consumed{0};
    for (int c = 0; c < 2; ++c)
        threads.emplace_back([&] {
            std::uint64_t item;
            while (consumed.load() < std::uint64_t(producers) * items)
                if (ring->pop(item)) ledger->record(item), consumed.fetch_add(1);
                else std::this_thread::yield();
        });
    for (auto& thread : threads) thread.join();
    REQUIRE(ledger->duplicates.load() == 0);
    REQUIRE(ledger->checksum.load() == ledger_type::expected_checksum(producers, items));
}

struct ring_pair {
    vdsokit::spsc_ring<std::uint64_t, 16> requests;
    vdsokit::spsc_ring<std::uint64_t, 16> replies;
    vdsokit::shared_event requests_posted;
    vdsokit::shared_event replies_posted;
    std::atomic<std::uint64_t> child_view;
};

TEST_CASE("processes at different addresses ping-pong through rings and sleep on shared futexes", "[ring][futex][process]") {
    vdsokit_test::shared_memory_file file(sizeof(ring_pair));
    ring_pair& parent_pair = *vdsokit_test::construct_shared<ring_pair>(file);
    constexpr std::uint64_t rounds = 20000;
    const pid_t child = fork();
    if (child == 0) {
        auto& pair = *static_cast<ring_pair*>(file.map());
        if (static_cast<void*>(&pair) == file.parent_view()) _exit(90);
        pair.child_view.store(reinterpret_cast<std::uintptr_t>(&pair));
        vdsokit::spsc_ring<std::uint64_t, 16>::consumer requests(pair.requests);
        vdsokit::spsc_ring<std::uint64_t, 16>::producer replies(pair.replies);
        for (std::uint64_t i = 0; i < rounds; ++i) {
            std::uint64_t request = 0;
            while (!requests.pop(request)) {
                const std::uint32_t ticket = pair.requests_posted.prepare_wait();
                if (requests.ready() != 0) continue;  // arrived meanwhile: pop it
                pair.requests_posted.wait(ticket, i % 2 ? 0 : 100);  // odd rounds sleep at once
            }
            if (request != i) _exit(91);
            if (!replies.push(request * 3)) _exit(92);
            replies.submit();
            pair.replies_posted.notify_all();
        }
        _exit(0);
    }
    vdsokit::spsc_ring<std::uint64_t, 16>::producer requests(parent_pair.requests);
    vdsokit::spsc_ring<std::uint64_t, 16>::consumer replies(parent_pair.replies);
    bool all_right = true;
    for (std::uint64_t i = 0; i < rounds; ++i) {
        REQUIRE(requests.push(i));
        requests.submit();
        parent_pair.requests_posted.notify_all();
        std::uint64_t reply = 0;
        while (!replies.pop(reply)) {
            const std::uint32_t ticket = parent_pair.replies_posted.prepare_wait();
            if (replies.ready() != 0) continue;
            parent_pair.replies_posted.wait(ticket, 0);
        }
        all_right = all_right && reply == i * 3;
    }
    REQUIRE(wait_child(child) == 0);
    REQUIRE(all_right);
    REQUIRE(parent_pair.child_view.load() != reinterpret_cast<std::uintptr_t>(file.parent_view()));
}

struct streamed_ring {
    vdsokit::spsc_ring<std::uint64_t, 1024> ring;
    std::atomic<std::uint64_t> child_view;
};

TEST_CASE("a trailing consumer takes a stream from another process in order, and all of it once the producer is killed",
          "[ring][process]") {
    vdsokit_test::shared_memory_file file(sizeof(streamed_ring));
    streamed_ring& parent_view = *vdsokit_test::construct_shared<streamed_ring>(file);
    const pid_t child = vdsokit_test::spawn([&] {
        auto& own = *static_cast<streamed_ring*>(file.map());
        if (static_cast<void*>(&own) == file.parent_view()) _exit(90);
        own.child_view.store(reinterpret_cast<std::uintptr_t>(&own));
        vdsokit::spsc_ring<std::uint64_t, 1024>::producer producer(own.ring);
        std::uint64_t batch[5];
        for (std::uint64_t next = 0;;) {  // streams until it is killed, mid-burst or mid-submit
            for (std::uint64_t i = 0; i < 5; ++i) batch[i] = next + i;
            next += producer.push_burst(batch);
            producer.submit();
        }
    });
    vdsokit::spsc_ring<std::uint64_t, 1024>::trailing_consumer consumer(parent_view.ring);
    constexpr std::uint64_t before_kill = 300000;
    std::uint64_t expected = 0, value = 0;
    bool in_order = true;
    for (std::uint64_t idle = 0; expected < before_kill;) {
        if (consumer.pop(value)) {
            in_order = in_order && value == expected++;
        } else if (++idle % 4096 == 0) {  // a producer that exited early would leave us waiting
            int status = 0;
            if (waitpid(child, &status, WNOHANG) == child) FAIL("the producer exited early, status " << status);
        }
    }
    kill(child, SIGKILL);
    REQUIRE(wait_child(child) == 128 + SIGKILL);
    // The producer is gone mid-stream: every entry it submitted arrives, and then the ring is empty.
    while (consumer.pop(value)) in_order = in_order && value == expected++;
    INFO(expected << " entries arrived");
    REQUIRE(in_order);
    REQUIRE(parent_view.ring.size() == 0);
    REQUIRE(consumer.ready() == 0);
    REQUIRE(parent_view.child_view.load() != reinterpret_cast<std::uintptr_t>(file.parent_view()));
}

TEST_CASE("futex_wait wakes a sleeper in another process and reports value changes and timeouts", "[futex][process]") {
    std::atomic<std::uint32_t> word{0};
    REQUIRE(vdsokit::futex_wait(word, 1) == vdsokit::futex_wait_result::value_changed);
    REQUIRE(vdsokit::futex_wait(word, 0, 1000000) == vdsokit::futex_wait_result::timed_out);

    struct shared_word {
        std::atomic<std::uint32_t> value;
        std::atomic<std::uint32_t> child_sleeping;
    };
    vdsokit_test::shared_memory_file file(sizeof(shared_word));
    shared_word& parent_word = *vdsokit_test::construct_shared<shared_word>(file);
    const pid_t child = fork();
    if (child == 0) {
        auto& own = *static_cast<shared_word*>(file.map());
        if (static_cast<void*>(&own) == file.parent_view()) _exit(90);
        own.child_sleeping.store(1);
        const std::uint32_t seen = vdsokit::wait_until_changed(own.value, 0, 0);
        _exit(seen == 7 ? 0 : 93);
    }
    while (parent_word.child_sleeping.load() == 0) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it reach FUTEX_WAIT
    parent_word.value.store(7);
    vdsokit::futex_wake(parent_word.value);
    REQUIRE(wait_child(child) == 0);
    global_event.notify_all();
}

// The writer stores the same value in every word; a torn snapshot would mix two values.
struct snapshot {
    std::uint64_t words[6];
};

bool consistent(const snapshot& s) {
    for (std::uint64_t word : s.words)
        if (word != s.words[0]) return false;
    return true;
}

TEST_CASE("seqlock readers on other threads never see a torn snapshot", "[seqlock][stress]") {
    REQUIRE(global_seqlock.load() == 0);
    auto lock = std::make_unique<vdsokit::seqlock<snapshot>>();
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> torn{0}, reads{0}, failed_try{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r)
        readers.emplace_back([&] {
            std::uint64_t last = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                snapshot s = lock->load();
                if (!consistent(s) || s.words[0] < last) torn.fetch_add(1);
                last = s.words[0];
                if (!lock->try_load(s)) failed_try.fetch_add(1);
                else if (!consistent(s)) torn.fetch_add(1);
                reads.fetch_add(1, std::memory_order_relaxed);
            }
        });
    // Keep writing until the readers have really overlapped with the writer.
    for (std::uint64_t v = 1; v <= 300000 || reads.load(std::memory_order_relaxed) < 20000; ++v) {
        snapshot s;
        for (auto& word : s.words) word = v;
        lock->store(s);
    }
    stop.store(true);
    for (auto& reader : readers) reader.join();
    REQUIRE(reads.load() > 0);
    REQUIRE(torn.load() == 0);
    REQUIRE(consistent(lock->load()));
}

TEST_CASE("seqlock readers in other processes at other addresses never see a torn snapshot", "[seqlock][process]") {
    struct shared_snapshot {
        vdsokit::seqlock<snapshot> lock;
        std::atomic<std::uint32_t> stop;
        std::atomic<std::uint64_t> reads[2];
    };
    vdsokit_test::shared_memory_file file(sizeof(shared_snapshot));
    shared_snapshot& parent_view = *vdsokit_test::construct_shared<shared_snapshot>(file);
    std::vector<pid_t> readers;
    for (int r = 0; r < 2; ++r) {
        const pid_t pid = fork();
        if (pid == 0) {
            auto& own = *static_cast<shared_snapshot*>(file.map());
            if (static_cast<void*>(&own) == file.parent_view()) _exit(90);
            std::uint64_t last = 0, reads = 0;
            while (own.stop.load(std::memory_order_relaxed) == 0) {
                const snapshot s = own.lock.load();
                if (!consistent(s) || s.words[0] < last) _exit(94);
                last = s.words[0];
                ++reads;
                own.reads[r].fetch_add(1, std::memory_order_relaxed);
            }
            _exit(reads > 0 ? 0 : 95);
        }
        readers.push_back(pid);
    }
    // Keep writing until each reader has really overlapped with the writer.
    for (std::uint64_t v = 1; v <= 300000 || parent_view.reads[0].load(std::memory_order_relaxed) < 20000 ||
                              parent_view.reads[1].load(std::memory_order_relaxed) < 20000;
         ++v) {
        snapshot s;
        for (auto& word : s.words) word = v;
        parent_view.lock.store(s);
    }
    parent_view.stop.store(1);
    for (pid_t pid : readers) REQUIRE(wait_child(pid) == 0);
}

}  // namespace
