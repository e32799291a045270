. ./common.sh
# Debian's repack has a single top folder named after a git commit: unpack it
# into a fixed one so the build path does not depend on the repack.
step "unpack $SEVENZIP_TARBALL"
mkdir "$BUILD/7zip"
tar -C "$BUILD/7zip" --strip-components=1 -xf "$SRC/$SEVENZIP_TARBALL"
cd "$BUILD/7zip/CPP/7zip/Bundles/Alone2"
step make
# g++ -static against glibc (musl-tools has no C++ compiler): 7zz needs no NSS
# except to name file owners (-snoi), which then falls back to numeric ids.
# No assembler code (USE_ASM unset): it needs asmc/uasm, which Debian lacks.
# DISABLE_RAR=1: Debian's repack removed the RAR code (its licence is not free).
# 7-Zip's makefiles ignore $CFLAGS: the prefix maps ride on CFLAGS_BASE_LIST
# (whose default is just -c), used for C and C++ alike.
make -j"$JOBS" -f ../../cmpl_gcc.mak LDFLAGS_STATIC_3=-static DISABLE_RAR=1 \
    CFLAGS_BASE_LIST="-c -ffile-prefix-map=$BUILD=. -fdebug-prefix-map=$BUILD=."
mkdir -p "$OUT/bin"
strip --strip-all -o "$OUT/bin/7zz" b/g/7zz
step "check: static, runs"
file "$OUT/bin/7zz"
! readelf -l "$OUT/bin/7zz" | grep -q INTERP || { echo "7zz is not static" >&2; exit 1; }
"$OUT/bin/7zz" i | head -n 3
