. ./common.sh
unpack zlib
step configure
CFLAGS="$CFLAGS -fPIC" ./configure --static --prefix="$OUT"
step make
make -j"$JOBS" libz.a
make install
rm -rf "$OUT/share"
normalise_archives
