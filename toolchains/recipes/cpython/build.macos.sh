. ./common.sh
unpack cpython
step configure
# OpenSSL, xz and SQLite from this step's deps (static); zlib, bzip2 and
# libffi from the SDK. pkg-config is off (common.sh), so nothing of a
# Homebrew or MacPorts install leaks in.
d=$DEPS
export LIBLZMA_CFLAGS="-I$d/xz/include" LIBLZMA_LIBS="-L$d/xz/lib -llzma"
export LIBSQLITE3_CFLAGS="-I$d/sqlite/include" LIBSQLITE3_LIBS="-L$d/sqlite/lib -lsqlite3"
for m in _curses _curses_panel readline _dbm _gdbm _tkinter _uuid; do
    export "py_cv_module_$m=n/a"
done
for h in curses_h ncurses_h panel_h term_h readline_readline_h uuid_uuid_h uuid_h; do
    export "ac_cv_header_$h=no"
done
# --enable-shared: PyInstaller needs libpython as a dylib. MACOSX_DEPLOYMENT_TARGET
# comes from the target, so the SDK's newer APIs are weak-linked, not required.
./configure --prefix=/opt/apaf/python --enable-shared \
    --with-openssl="$d/openssl" --with-openssl-rpath=no \
    --without-ensurepip --disable-test-modules --with-lto=no \
    --with-builtin-hashlib-hashes=md5,sha1,sha2,sha3,blake2 \
    --without-readline --with-system-libmpdec=no \
    CFLAGS="$CFLAGS" LDFLAGS="${LDFLAGS:-}"
step make
make -j"$JOBS"
step install
make install DESTDIR="$OUT" >/dev/null
root="$OUT/opt/apaf/python"
lib=libpython3.13.dylib
# Relocatable: the interpreter finds libpython beside it, wherever the tree is unpacked.
install_name_tool -id "@rpath/$lib" "$root/lib/$lib"
install_name_tool -change "/opt/apaf/python/lib/$lib" "@executable_path/../lib/$lib" "$root/bin/python3.13"
# Editing a Mach-O breaks the linker's ad-hoc signature, without which arm64 refuses to run it.
codesign --force --sign - "$root/lib/$lib" "$root/bin/python3.13"
only_system_dylibs "$root/bin/python3.13" "$root/lib/$lib"
rm -rf "$root/lib/python3.13/test" "$root/lib/python3.13/idlelib" \
    "$root/lib/python3.13/tkinter" "$root/lib/python3.13/turtledemo" \
    "$root/share"
mv "$root"/* "$OUT/"
rm -rf "$OUT/opt"
