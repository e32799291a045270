. ./common.sh
unpack sqlite
step amalgamation
./configure --disable-tcl --disable-readline --disable-shared >/dev/null
make sqlite3.c sqlite3.h
step compile
$CC $CFLAGS -O2 -fPIC -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_JSON1 \
    -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_THREADSAFE=1 -c sqlite3.c -o sqlite3.o
mkdir -p "$OUT/lib" "$OUT/include"
# Apple's ar has no D flag; ZERO_AR_DATE (the target's toolchain) makes it deterministic.
ar rc "$OUT/lib/libsqlite3.a" sqlite3.o
ranlib "$OUT/lib/libsqlite3.a"
cp sqlite3.h sqlite3ext.h "$OUT/include/"
