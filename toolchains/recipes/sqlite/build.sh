. ./common.sh
unpack sqlite
step amalgamation
# Debian's orig is sqlite's full source tree; its amalgamation (one sqlite3.c)
# is generated with tclsh, then compiled by hand: it is a single file.
./configure --disable-tcl --disable-readline --disable-shared >/dev/null
make sqlite3.c sqlite3.h
step compile
$CC $CFLAGS -O2 -fPIC -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_JSON1 \
    -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_THREADSAFE=1 -c sqlite3.c -o sqlite3.o
mkdir -p "$OUT/lib" "$OUT/include"
ar rcD "$OUT/lib/libsqlite3.a" sqlite3.o
cp sqlite3.h sqlite3ext.h "$OUT/include/"
