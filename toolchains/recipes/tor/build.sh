. ./common.sh
unpack tor
step configure
# --enable-static-tor: one ELF with no program interpreter, so the same file
#   runs on any Linux and inside an empty root.
# --disable-gcc-hardening: its -pie clashes with -static (static-pie is not
#   what tor's configure expects); stack protector and RELRO stay on.
# lzma/zstd/seccomp/systemd/scrypt: optional, and would pull host libraries.
./configure --host="$HOST_TRIPLET" --prefix=/usr \
    --enable-static-tor \
    --with-openssl-dir="$DEPS/openssl" \
    --with-libevent-dir="$DEPS/libevent" \
    --with-zlib-dir="$DEPS/zlib" \
    --disable-gcc-hardening --disable-lzma --disable-zstd --disable-seccomp \
    --disable-systemd --disable-libscrypt --disable-unittests \
    --disable-asciidoc --disable-manpage --disable-html-manual \
    --disable-tool-name-check --disable-dependency-tracking
step make
make -j"$JOBS" src/app/tor src/tools/tor-gencert
mkdir -p "$OUT/bin"
strip --strip-all -o "$OUT/bin/tor" src/app/tor
strip --strip-all -o "$OUT/bin/tor-gencert" src/tools/tor-gencert
