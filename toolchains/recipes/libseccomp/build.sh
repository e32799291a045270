. ./common.sh
unpack libseccomp
step "kernel headers"
# musl ships no linux/*.h, and seccomp.h includes linux/seccomp.h, linux/audit.h
# and asm/unistd.h. Only the kernel's uapi folders are added (not the host's
# whole /usr/include, where a configure test would find glibc-only headers
# such as execinfo.h); tor's recipe does the same.
kh="$BUILD/kernel-headers"
mkdir -p "$kh"
ln -s "$KERNEL_HEADERS/linux" "$KERNEL_HEADERS/asm-generic" "$kh/"
ln -s "$KERNEL_HEADERS/$(gcc -dumpmachine)/asm" "$kh/asm"
step configure
# GPERF=false: the release tarball ships the generated syscall table
# (src/syscalls.perf.c, newer than its inputs), so gperf is never run; if make
# ever wanted to regenerate it, `false` fails the step instead of a silent
# rebuild from another gperf version.
CFLAGS="$CFLAGS -fPIC -idirafter $kh" GPERF=false ./configure --prefix="$OUT" --host="$HOST_TRIPLET" \
    --disable-shared --enable-static --disable-python --disable-dependency-tracking
step make
# Only the library and its headers: the scmp_* tools and tests are not shipped.
make -j"$JOBS" -C src libseccomp.la
make -C src install-libLTLIBRARIES
make -C include install
rm -rf "$OUT/share" "$OUT"/lib/*.la
normalise_archives
