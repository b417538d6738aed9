#!/bin/bash
# postlink_checks.sh: builds small faulty vDSOs with vdsokit's recipe and checks that the build
# refuses each with a message naming the fault (at link time by the linker, or by vdsokit-gen api).
# Environment: CXX, VDSO_CFLAGS, VDSO_LDFLAGS, VDSOKIT_GEN, VDSOKIT_INCLUDE, VDSOKIT_TEST_SOURCE.
set -u
src=$VDSOKIT_TEST_SOURCE/bad_images
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$VDSOKIT_GEN" version-script --node BAD_1 --out "$work/bad.ver" "$src/api.hpp" || exit 1
failures=0

# build NAME EXTRA_CFLAGS: compile and link; prints the output, returns the status
build() {
  $CXX -std=c++20 -O2 -fPIC $VDSO_CFLAGS $2 -I"$VDSOKIT_INCLUDE" -c "$src/$1.cpp" -o "$work/$1.o" 2>&1 &&
  $CXX -shared -o "$work/lib$1.so" "$work/$1.o" $VDSO_LDFLAGS ${3:-"-Wl,--version-script=$work/bad.ver"} 2>&1
}
check() {  # check NAME EXPECTED_TEXT [EXTRA_CFLAGS] [LINK_ARGS] [GEN_FLAGS]
  local name=$1 expected=$2 output
  if output=$(build "$name" "${3:-}" "${4:-}"); then
    output=$("$VDSOKIT_GEN" api --name bad --node BAD_1 --api "$src/api.hpp" --so "$work/lib$name.so" \
             --out-dir "$work" ${5:-} 2>&1) && { echo "FAIL $name: accepted"; failures=$((failures+1)); return; }
  fi
  if printf '%s' "$output" | grep -qF -- "$expected"; then echo "ok   $name: $expected"
  else printf 'FAIL %s: expected "%s", got:\n%s\n' "$name" "$expected" "$output"; failures=$((failures+1)); fi
}

check constructor ".init_array runs _GLOBAL__sub_I_constructor.cpp at load time"
check thread_local "'per_thread_calls' is thread_local"
check undefined "undefined reference to \`helper_from_libc'"
check missing_export "api.hpp:3: error: 'bad_entry' is declared but"
check two_vvars "has 2 vVAR objects ('first_vvar' and 'second_vvar')"
check relocation "relocation at" "" "" "--no-relocations"
check text_relocation "text relocation" "-fno-pic -mcmodel=large" "-Wl,-z,notext -Wl,--version-script=$work/bad.ver"
check good "has no symbol version definitions" "" "-Wl,--no-undefined"   # linked without the version script

# The control: a clean image passes and yields both headers.
if build good "" >/dev/null && "$VDSOKIT_GEN" api --name bad --node BAD_1 --api "$src/api.hpp" \
     --so "$work/libgood.so" --out-dir "$work" --no-relocations && [ -s "$work/bad_api.hpp" ] && [ -s "$work/bad_image.hpp" ]
then echo "ok   good: accepted"; else echo "FAIL good: refused"; failures=$((failures+1)); fi
# And a relocation is fine where the loader applies it.
if build relocation "" >/dev/null && "$VDSOKIT_GEN" api --name bad --node BAD_1 --api "$src/api.hpp" \
     --so "$work/librelocation.so" --out-dir "$work"
then echo "ok   relocation: accepted without --no-relocations"; else echo "FAIL relocation refused"; failures=$((failures+1)); fi
exit $failures
