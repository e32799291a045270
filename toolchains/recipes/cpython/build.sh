. ./common.sh
unpack cpython
step configure
# Every optional module's library comes from this step's deps, named
# explicitly; pkg-config is switched off (common.sh) so nothing of the
# host's leaks in. Modules whose libraries we do not build are disabled.
d=$DEPS
export ZLIB_CFLAGS="-I$d/zlib/include" ZLIB_LIBS="-L$d/zlib/lib -lz"
export LIBFFI_CFLAGS="-I$d/libffi/include" LIBFFI_LIBS="-L$d/libffi/lib -lffi"
export LIBLZMA_CFLAGS="-I$d/xz/include" LIBLZMA_LIBS="-L$d/xz/lib -llzma"
export BZIP2_CFLAGS="-I$d/bzip2/include" BZIP2_LIBS="-L$d/bzip2/lib -lbz2"
export LIBSQLITE3_CFLAGS="-I$d/sqlite/include" LIBSQLITE3_LIBS="-L$d/sqlite/lib -lsqlite3 -lm"
for m in _curses _curses_panel readline _dbm _gdbm _tkinter _uuid; do
    export "py_cv_module_$m=n/a"
done
# Their headers must not change the result either (pyconfig.h, sysconfigdata):
# configure is told they are absent, whatever -dev packages the builder has.
for h in curses_h ncurses_h ncursesw_curses_h ncursesw_ncurses_h ncursesw_panel_h panel_h term_h \
         readline_readline_h uuid_uuid_h uuid_h; do
    export "ac_cv_header_$h=no"
done
# _ssl and _hashlib are built into libpython instead of as two extension
# modules: each module would carry its own static copy of libcrypto, which is
# then linked once. --exclude-libs keeps OpenSSL's symbols out of libpython's
# exports, so an app's own OpenSSL (e.g. in a wheel) never binds to ours.
cat > Modules/Setup.local <<'SETUP'
*static*
_ssl _ssl.c $(MODULE__SSL_CFLAGS) $(MODULE__SSL_LDFLAGS) -Wl,--exclude-libs,libssl.a:libcrypto.a
_hashlib _hashopenssl.c $(MODULE__HASHLIB_CFLAGS) $(MODULE__HASHLIB_LDFLAGS) -Wl,--exclude-libs,libssl.a:libcrypto.a
SETUP
# No rpath anywhere at link time: staticx refuses libraries that carry one.
# Only the interpreter gets $ORIGIN/../lib, patched in after install.
./configure --prefix=/opt/apaf/python --enable-shared \
    --with-openssl="$d/openssl" --with-openssl-rpath=no \
    --without-ensurepip --disable-test-modules --with-lto=no \
    --with-builtin-hashlib-hashes=md5,sha1,sha2,sha3,blake2 \
    --without-readline PYTHON_FOR_REGEN=python3 \
    CFLAGS="$CFLAGS" LDFLAGS="-Wl,--build-id=none"
step make
make -j"$JOBS"
step install
make install DESTDIR="$OUT" >/dev/null
root="$OUT/opt/apaf/python"
patchelf --set-rpath '$ORIGIN/../lib' "$root/bin/python3.13"
rm -rf "$root/lib/python3.13/test" "$root/lib/python3.13/idlelib" \
    "$root/lib/python3.13/tkinter" "$root/lib/python3.13/turtledemo" \
    "$root/share"
# The install tree is the output, moved to the top of $OUT.
mv "$root"/* "$OUT/"
rm -rf "$OUT/opt"
