#!/bin/bash
# consumer_test.sh REPO: a user's project (tests/subproject/consumer) builds a vDSO with vdsokit
#   1. as a Meson subproject (dependency('vdsokit') falling back to subprojects/vdsokit),
#   2. with a MUT_CFG override from the environment: rebuilt on change, not rebuilt otherwise,
#      and a bad override refused with the constant and the value named,
#   3. against an installed vdsokit (meson install; pkg-config; vdsokit-gen on PATH).
set -euo pipefail
repo=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
copy_repo() {  # the files git knows about (tracked or not ignored): what a clone would hold
  mkdir -p "$2"
  git -C "$1" ls-files -co --exclude-standard | tar -C "$1" -cf - -T - | tar -C "$2" -xf -
}
host_output() { "$1/greeter/greeter_host"; }

# 1. Subproject.
cp -r "$repo/tests/subproject/consumer" "$work/consumer"
copy_repo "$repo" "$work/consumer/subprojects/vdsokit"
cd "$work/consumer"
env -u GREETER_REPEAT meson setup build >/dev/null || fail "configure with the subproject"
env -u GREETER_REPEAT meson compile -C build >/dev/null || fail "build with the subproject"
out=$(host_output build)
[ "$out" = "host GREETER_REPEAT=2 image GREETER_REPEAT=2 greetings=2" ] || fail "default build printed: $out"
echo "ok: subproject build, default MUT_CFG: $out"

# 2. Override from the environment; rebuild only on change.
image=build/greeter/libgreeter.so
before=$(stat -c %Y "$image")
sleep 1
GREETER_REPEAT=5 meson compile -C build >/dev/null || fail "build with GREETER_REPEAT=5"
out=$(host_output build)
[ "$out" = "host GREETER_REPEAT=5 image GREETER_REPEAT=5 greetings=2" ] || fail "override build printed: $out"
after=$(stat -c %Y "$image")
[ "$after" != "$before" ] || fail "the image was not rebuilt when GREETER_REPEAT changed"
echo "ok: GREETER_REPEAT=5 from the environment rebuilt the image: $out"
sleep 1
GREETER_REPEAT=5 meson compile -C build >/dev/null || fail "second build with GREETER_REPEAT=5"
[ "$(stat -c %Y "$image")" = "$after" ] || fail "the image was rebuilt although GREETER_REPEAT did not change"
echo "ok: same value again: nothing rebuilt"
if out=$(GREETER_REPEAT=lots meson compile -C build 2>&1); then fail "GREETER_REPEAT=lots was accepted"; fi
grep -qF 'MUT_CFG GREETER_REPEAT: "lots" (from the environment) is not a valid std::uint32_t' <<<"$out" ||
  fail "GREETER_REPEAT=lots failed without naming the constant and value: $out"
echo "ok: GREETER_REPEAT=lots refused, naming the constant and the value"

# 3. Installed.
copy_repo "$repo" "$work/vdsokit"
cd "$work/vdsokit"
meson setup build --prefix="$work/prefix" --libdir=lib -Dtests=false -Dexamples=false >/dev/null || fail "configure vdsokit for install"
meson install -C build >/dev/null || fail "meson install"
for f in include/vdsokit.hpp include/vdsokit/vvar.hpp share/vdsokit/linker/common/vdso-layout.lds bin/vdsokit-gen \
         lib/pkgconfig/vdsokit.pc lib/pkgconfig/vdsokit-vdso.pc; do
  [ -e "$work/prefix/$f" ] || fail "meson install did not install $f"
done
rm -rf "$work/consumer/subprojects" "$work/consumer/build"
cd "$work/consumer"
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" PATH="$work/prefix/bin:$PATH" \
  meson setup build --wrap-mode=nofallback >/dev/null || fail "configure against the installed vdsokit"
grep -q "$work/prefix/include" build/build.ninja || fail "the consumer did not use the installed headers"
env -u GREETER_REPEAT PATH="$work/prefix/bin:$PATH" meson compile -C build >/dev/null || fail "build against the installed vdsokit"
out=$(host_output build)
[ "$out" = "host GREETER_REPEAT=2 image GREETER_REPEAT=2 greetings=2" ] || fail "installed build printed: $out"
echo "ok: built against the installed vdsokit (pkg-config, vdsokit-gen on PATH): $out"
