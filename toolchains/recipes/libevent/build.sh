. ./common.sh
unpack libevent
step configure
# tor needs only the core and pthreads; libevent's OpenSSL/mbedTLS layers
# would drag a second TLS stack in.
CFLAGS="$CFLAGS -fPIC" ./configure --prefix="$OUT" --host="$HOST_TRIPLET" \
    --disable-shared --enable-static --disable-openssl --disable-mbedtls \
    --disable-samples --disable-libevent-regress --disable-debug-mode \
    --disable-dependency-tracking
step make
make -j"$JOBS"
make install
rm -rf "$OUT/bin" "$OUT/share" "$OUT"/lib/*.la
normalise_archives
