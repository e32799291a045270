. ./common.sh
unpack xz
step configure
# Only liblzma is needed (CPython's lzma module); the xz tools are not built.
CFLAGS="$CFLAGS -fPIC" ./configure --prefix="$OUT" --host="$HOST_TRIPLET" \
    --disable-shared --enable-static --disable-xz --disable-xzdec --disable-lzmadec \
    --disable-lzmainfo --disable-scripts --disable-doc --disable-nls \
    --disable-dependency-tracking
step make
make -j"$JOBS" -C src/liblzma
make -C src/liblzma install
rm -rf "$OUT/share" "$OUT"/lib/*.la
normalise_archives
