. ./common.sh
unpack libffi
if [ ! -x configure ]; then
    # Debian's orig is a git export: generate configure as upstream's release does.
    step autoreconf
    autoreconf -fi >/dev/null
fi
step configure
# Static and PIC: linked into CPython's _ctypes extension module.
# --disable-exec-static-tramp keeps libffi from probing the build machine.
CFLAGS="$CFLAGS -fPIC" ./configure --prefix="$OUT" --host="$HOST_TRIPLET" \
    --disable-shared --enable-static --disable-docs --disable-multi-os-directory \
    --disable-dependency-tracking
step make
make -j"$JOBS"
make install
rm -rf "$OUT/share" "$OUT"/lib/*.la
normalise_archives
