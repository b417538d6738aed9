#!/bin/sh
# bench-vclock.sh [BUILD_DIR] | --exec VDSOKIT_EXEC --client BENCH_CLIENT
#
# One run, three ways to call clock_gettime(CLOCK_MONOTONIC) from the same static musl program:
#   vclock      under vdsokit-exec: libc -> AT_SYSINFO_EHDR -> vdsokit's vclock vDSO
#   kernel      run natively:       libc -> the kernel's own vDSO
#   syscall     run natively:       syscall(SYS_clock_gettime)
# The three are interleaved (REPEATS times) so that machine noise hits all of them alike; each
# row is the median over all rounds. Bars (issue #5): vclock within 1.2x of the kernel's vDSO,
# and at least 20x faster than the system call.
set -eu
exec_path= client= build=build
while [ $# -gt 0 ]; do
  case $1 in
    --exec) exec_path=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    *) build=$1; shift ;;
  esac
done
if [ -z "$exec_path" ]; then
  ninja -C "$build" examples/vclock/vdsokit-exec tests/bench/vclock/bench_clock_musl >/dev/null
  exec_path=$build/examples/vclock/vdsokit-exec client=$build/tests/bench/vclock/bench_clock_musl
fi
repeats=${REPEATS:-5} rounds=${ROUNDS:-15} iterations=${ITERATIONS:-1000000}
syscall_iterations=${SYSCALL_ITERATIONS:-50000}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

i=0
while [ $i -lt "$repeats" ]; do
  "$exec_path" "$client" libc "$iterations" "$rounds" >>"$work/vclock"
  "$client" libc "$iterations" "$rounds" >>"$work/kernel"
  "$client" syscall "$syscall_iterations" "$rounds" >>"$work/syscall"
  i=$((i + 1))
done

median() { awk '{print $2}' "$1" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
minimum() { awk '{print $2}' "$1" | sort -n | head -1; }
vclock=$(median "$work/vclock") kernel=$(median "$work/kernel") syscall=$(median "$work/syscall")

echo "clock_gettime(CLOCK_MONOTONIC), static musl program, $(nproc) CPUs, $((repeats * rounds)) rounds each"
printf '%-44s %12s %12s %14s\n' "path" "median ns" "min ns" "vs kernel vDSO"
printf '%-44s %12s %12s %14s\n' "vclock (vdsokit-exec, AT_SYSINFO_EHDR)" "$vclock" "$(minimum "$work/vclock")" \
  "$(awk -v a="$vclock" -v b="$kernel" 'BEGIN {printf "%.2fx", a/b}')"
printf '%-44s %12s %12s %14s\n' "kernel vDSO (native run)" "$kernel" "$(minimum "$work/kernel")" "1.00x"
printf '%-44s %12s %12s %14s\n' "raw syscall (native run)" "$syscall" "$(minimum "$work/syscall")" \
  "$(awk -v a="$syscall" -v b="$kernel" 'BEGIN {printf "%.2fx", a/b}')"
awk -v v="$vclock" -v k="$kernel" -v s="$syscall" 'BEGIN {
  printf "vclock / kernel vDSO = %.2fx (bar <= 1.20x: %s)\n", v/k, (v/k <= 1.2) ? "met" : "NOT met"
  printf "syscall / vclock     = %.1fx (bar >= 20x: %s)\n", s/v, (s/v >= 20) ? "met" : "NOT met"
}'
