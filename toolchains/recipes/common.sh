# Sourced by every recipe's build.sh (the executor copies it next to it).
# The step contract, identical on every executor (fixed paths make builds
# reproducible across checkouts and builders):
#   /srv/apaf/src/      this recipe's verified source tarballs (read-only)
#   /srv/apaf/deps/X/   the output of dependency recipe X (read-only)
#   /srv/apaf/inputs/X/ input folder X the caller handed in, e.g. the app (read-only)
#   /srv/apaf/build/    scratch space, the working directory
#   /srv/apaf/out/      what the step produces; nothing else is kept
# The network is off unless recipe.toml says `network = true` (only for
# downloads pinned by hash). Environment: JOBS, SOURCE_DATE_EPOCH, <NAME>_VERSION and <NAME>_TARBALL per
# source, plus the target toolchain's variables (CC, CFLAGS, ...).
set -eu
SRC=/srv/apaf/src DEPS=/srv/apaf/deps INPUTS=/srv/apaf/inputs BUILD=/srv/apaf/build OUT=/srv/apaf/out
export LC_ALL=C TZ=UTC
# Paths in debug info and __FILE__ must not depend on where the step ran.
export CFLAGS="${CFLAGS:-} -ffile-prefix-map=$BUILD=. -fdebug-prefix-map=$BUILD=."
# pkg-config must see only what this step was given, never the host's libraries.
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

# Strip non-determinism from static archives: ar's own timestamps and uids.
normalise_archives() {
    find "$OUT" -name '*.a' | while read -r a; do
        objcopy --enable-deterministic-archives "$a" 2>/dev/null || true
    done
}
