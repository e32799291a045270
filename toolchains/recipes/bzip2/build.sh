. ./common.sh
unpack bzip2
step make
# bzip2 has no configure; its Makefile takes CC and CFLAGS directly.
make -j"$JOBS" libbz2.a CC="$CC" CFLAGS="$CFLAGS -fPIC -O2 -D_FILE_OFFSET_BITS=64"
mkdir -p "$OUT/lib" "$OUT/include"
cp libbz2.a "$OUT/lib/"
cp bzlib.h "$OUT/include/"
normalise_archives
