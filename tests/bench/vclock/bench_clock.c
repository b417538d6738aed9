/* bench_clock MODE ITERATIONS ROUNDS: times clock_gettime(CLOCK_MONOTONIC) and prints one
 * `round NS_PER_CALL` line per round. MODE `libc` calls the libc function (the vDSO it found
 * through AT_SYSINFO_EHDR: the kernel's when run natively, vclock under vdsokit-exec); MODE
 * `syscall` makes the raw system call. Built with musl-gcc -static (scripts/bench-vclock.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s libc|syscall ITERATIONS ROUNDS\n", argv[0]);
        return 2;
    }
    const int use_syscall = strcmp(argv[1], "syscall") == 0;
    const long iterations = atol(argv[2]), rounds = atol(argv[3]);
    volatile long long sink = 0;
    for (long r = 0; r < rounds; ++r) {
        struct timespec start, end, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        if (use_syscall) {
            for (long i = 0; i < iterations; ++i) {
                syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
                sink += now.tv_nsec;
            }
        } else {
            for (long i = 0; i < iterations; ++i) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                sink += now.tv_nsec;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &end);
        printf("round %.2f\n", (double)(ns(end) - ns(start)) / (double)iterations);
    }
    return sink == 42 ? 1 : 0;
}
