. ./common.sh
unpack gnupg
step patch
# Sign with SHA-256, as GnuPG 2.x does, not 1.4's SHA-1 (Debian's patch, see README).
patch -p1 < /srv/apaf/recipe/sha256-by-default.patch
step configure
# -static: one ELF with no program interpreter, like tor.
# -fcommon: 1.4.23 declares its globals in headers, which GCC >= 10 rejects
#   by default (multiple definitions at link time).
# Everything that reaches the network or runs other programs is left out:
# keyservers (hkp, ldap, finger, curl), DNS lookups, photo viewers, exec.
# An app signs and verifies with it; it never fetches keys.
CFLAGS="$CFLAGS -fcommon" LDFLAGS="-static" ./configure --host="$HOST_TRIPLET" --prefix=/usr \
    --with-zlib="$DEPS/zlib" --disable-bzip2 --without-libcurl --without-readline \
    --without-libusb --disable-card-support --disable-agent-support \
    --disable-exec --disable-photo-viewers --disable-keyserver-helpers \
    --disable-ldap --disable-hkp --disable-finger --disable-generic \
    --disable-dns-srv --disable-dns-cert --disable-nls --disable-asm \
    --enable-static-rnd=linux --enable-noexecstack --disable-dependency-tracking
step make
make -j"$JOBS"
mkdir -p "$OUT/bin"
strip --strip-all -o "$OUT/bin/gpg" g10/gpg
step "check: static, runs"
file "$OUT/bin/gpg"
! readelf -l "$OUT/bin/gpg" | grep -q INTERP || { echo "gpg is not static" >&2; exit 1; }
"$OUT/bin/gpg" --version | head -n 2
