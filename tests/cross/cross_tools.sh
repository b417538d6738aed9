# Sourced by the cross tests with ARCH as $1: sets arch, cxx (ARCH's g++) and qemu (qemu-user for
# ARCH), and fails with the missing tool's name if either is not installed.
arch=$1
cxx=$arch-linux-gnu-g++
qemu=qemu-$arch
for tool in "$cxx" "$qemu"; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/test.sh --suite cross installs it)"; exit 1; }
done
