. ./common.sh
unpack tor
step "kernel headers"
# musl ships no linux/*.h; seccomp.h and tor's sandbox need linux/ and asm/.
# Only the kernel's uapi folders are added, not the host's /usr/include (its
# glibc-only headers, e.g. execinfo.h, would fool configure's header tests).
kh="$BUILD/kernel-headers"
mkdir -p "$kh"
ln -s "$KERNEL_HEADERS/linux" "$KERNEL_HEADERS/asm-generic" "$kh/"
ln -s "$KERNEL_HEADERS/$(gcc -dumpmachine)/asm" "$kh/asm"
step configure
# --enable-static-tor: one ELF with no program interpreter, so the same file
#   runs on any Linux and inside an empty root.
# --disable-gcc-hardening: its -pie clashes with -static (static-pie is not
#   what tor's configure expects); stack protector and RELRO stay on.
# --enable-seccomp with this target's static libseccomp: tor's own `Sandbox 1`.
# lzma/zstd/systemd/scrypt: optional, and would pull host libraries.
CPPFLAGS="-I$DEPS/libseccomp/include -idirafter $kh" LDFLAGS="-L$DEPS/libseccomp/lib" \
./configure --host="$HOST_TRIPLET" --prefix=/usr \
    --enable-static-tor \
    --with-openssl-dir="$DEPS/openssl" \
    --with-libevent-dir="$DEPS/libevent" \
    --with-zlib-dir="$DEPS/zlib" \
    --disable-gcc-hardening --disable-lzma --disable-zstd --enable-seccomp \
    --disable-systemd --disable-libscrypt --disable-unittests \
    --disable-asciidoc --disable-manpage --disable-html-manual \
    --disable-tool-name-check --disable-dependency-tracking
# configure quietly goes on without libseccomp when it cannot use it.
grep -q '^#define HAVE_SECCOMP_H 1' orconfig.h || { echo "tor: libseccomp not found, no Sandbox support" >&2; exit 1; }
step make
make -j"$JOBS" src/app/tor src/tools/tor-gencert
mkdir -p "$OUT/bin"
strip --strip-all -o "$OUT/bin/tor" src/app/tor
strip --strip-all -o "$OUT/bin/tor-gencert" src/tools/tor-gencert
