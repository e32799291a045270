. ./common.sh
unpack tor
step configure
# macOS has no static libc, so no --enable-static-tor: tor links this target's
# own zlib, OpenSSL and libevent statically (--enable-static-*) and only
# system dylibs (libSystem) dynamically; only_system_dylibs checks that.
./configure --host="$HOST_TRIPLET" --prefix=/usr \
    --enable-static-openssl --with-openssl-dir="$DEPS/openssl" \
    --enable-static-libevent --with-libevent-dir="$DEPS/libevent" \
    --enable-static-zlib --with-zlib-dir="$DEPS/zlib" \
    --disable-lzma --disable-zstd --disable-seccomp \
    --disable-systemd --disable-libscrypt --disable-unittests \
    --disable-asciidoc --disable-manpage --disable-html-manual \
    --disable-tool-name-check --disable-dependency-tracking
step make
make -j"$JOBS" src/app/tor src/tools/tor-gencert
mkdir -p "$OUT/bin"
# -x keeps the symbols the dynamic linker needs; strip re-applies the linker's ad-hoc signature.
strip -x -o "$OUT/bin/tor" src/app/tor
strip -x -o "$OUT/bin/tor-gencert" src/tools/tor-gencert
step "linked libraries"
otool -L "$OUT/bin/tor"
only_system_dylibs "$OUT/bin/tor" "$OUT/bin/tor-gencert"
