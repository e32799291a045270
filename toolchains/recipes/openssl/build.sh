. ./common.sh
unpack openssl
step configure
# no-shared: linked statically into tor and into CPython's _ssl/_hashlib.
# --openssldir=/etc/ssl: OpenSSL reads its config and CA store from here at
#   run time (even with no-autoload-config); /etc/ssl is where Debian,
#   Fedora-ish and most distributions keep them, so CPython's ssl finds certs.
# --libdir=lib: otherwise lib64 on x86_64, which the dependants do not expect.
# KERNEL_HEADERS: musl has no linux/*.h; OpenSSL's secure memory and afalg
#   need them, so the host's kernel headers are searched after musl's own.
extra=""
if [ -n "${KERNEL_HEADERS:-}" ]; then extra="-idirafter $KERNEL_HEADERS -idirafter $KERNEL_HEADERS/x86_64-linux-gnu"; fi
./Configure "${OPENSSL_TARGET:-linux-x86_64}" no-shared no-tests no-docs no-apps no-legacy \
    no-module no-dso no-engine no-afalgeng no-comp \
    --prefix="$OUT" --libdir=lib --openssldir=/etc/ssl \
    $CFLAGS -fPIC $extra
step make
make -j"$JOBS" build_libs
make install_dev
rm -rf "$OUT/share"
normalise_archives
