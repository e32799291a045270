# Sourced by every recipe's build script on macOS (the macOS variant of common.sh;
# same step contract, see there). macOS has no mount namespaces, so the fixed
# paths are a real folder, the Mac builder's build root, which the executor
# names in APAF_ROOT (builders/executors/platforms/macos.py):
#   $APAF_ROOT/src/ deps/X/ inputs/X/ (read-only), build/ (scratch), out/ (kept)
# The network is denied by the step's sandbox-exec profile unless recipe.toml
# says `network = true`.
set -eu
: "${APAF_ROOT:?is set by the macOS executor (the fixed build root)}"
SRC=$APAF_ROOT/src DEPS=$APAF_ROOT/deps INPUTS=$APAF_ROOT/inputs BUILD=$APAF_ROOT/build OUT=$APAF_ROOT/out
export LC_ALL=C TZ=UTC
# Paths in debug info and __FILE__ must not depend on where the step ran.
export CFLAGS="${CFLAGS:-} -ffile-prefix-map=$BUILD=."
# pkg-config (if the Mac has one) must see only what this step was given.
export PKG_CONFIG_LIBDIR="" PKG_CONFIG_PATH=""

step() { printf '\n=== %s\n' "$*"; }

# unpack NAME: extract NAME's tarball into $BUILD and cd into its top directory.
unpack() {
    eval "tarball=\$$(echo "$1" | tr a-z- A-Z_)_TARBALL"
    step "unpack $tarball"
    top=$(tar -tf "$SRC/$tarball" | head -n1 | cut -d/ -f1)
    tar -C "$BUILD" -xf "$SRC/$tarball"
    cd "$BUILD/$top"
}

# Archives are already deterministic: the target sets ZERO_AR_DATE, which makes
# ar, ranlib and ld64 write zero dates (there is no objcopy on a Mac).
normalise_archives() { :; }

# Everything a Mach-O file links dynamically must come with macOS itself.
only_system_dylibs() {
    for f in "$@"; do
        bad=$(otool -L "$f" | tail -n +2 | awk '{print $1}' | grep -v -e '^/usr/lib/' -e '^/System/Library/' \
              -e '^@rpath/libpython' -e '^@executable_path/' || true)
        if [ -n "$bad" ]; then echo "error: $f links non-system libraries: $bad" >&2; exit 1; fi
    done
}
