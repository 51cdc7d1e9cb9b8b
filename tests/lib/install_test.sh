#!/bin/sh
# Installs the build into a temporary prefix, then builds and runs a program with nothing but
# `pkg-config --cflags --libs vitals` (shared library) and `pkg-config --static` (libvitals.a).
#   install_test.sh BUILD_DIR LIBDIR SOURCE_DIR     (LIBDIR: CMAKE_INSTALL_LIBDIR, e.g. lib)
set -eu
build=$1 libdir=$2 src=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vt-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in include/vitals.h "$libdir/libvitals.so" "$libdir/libvitals.a" "$libdir/pkgconfig/vitals.pc"; do
    [ -e "$tmp/prefix/$f" ] || { echo "install_test: '$f' was not installed" >&2; exit 1; }
done
soname=$(objdump -p "$tmp/prefix/$libdir/libvitals.so" | awk '/SONAME/ {print $2}')
case $soname in
libvitals.so.[0-9]*) ;;
*) echo "install_test: unexpected SONAME '$soname'" >&2; exit 1 ;;
esac
export PKG_CONFIG_PATH="$tmp/prefix/$libdir/pkgconfig"
pkg-config --exists vitals || { echo "install_test: pkg-config cannot find vitals" >&2; exit 1; }
# Only the vt_ API is exported.
bad=$(nm -D --defined-only "$tmp/prefix/$libdir/libvitals.so" | awk '$2 ~ /[TDB]/ {print $3}' | grep -v '^vt_' || true)
[ -z "$bad" ] || { echo "install_test: exported beyond vt_: $bad" >&2; exit 1; }
# shellcheck disable=SC2046
cc -o "$tmp/shared" "$src" $(pkg-config --cflags --libs vitals) \
    -Wl,-rpath,"$(pkg-config --variable=libdir vitals)"
"$tmp/shared"
loaded=$(ldd "$tmp/shared" | awk '/libvitals\.so/ {print $3}')
[ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$(realpath "$tmp/prefix/$libdir/libvitals.so")" ] ||
    { echo "install_test: the program loaded '$loaded', not the installed libvitals.so" >&2; exit 1; }
# shellcheck disable=SC2046
cc -o "$tmp/static" "$src" $(pkg-config --cflags vitals) "$tmp/prefix/$libdir/libvitals.a" \
    $(pkg-config --static --libs-only-other --libs-only-l vitals | sed 's/-lvitals//')
"$tmp/static"
echo "install_test: ok (SONAME $soname)"
