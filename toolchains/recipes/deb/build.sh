. ./common.sh
umask 022
P=$INPUTS/package
. "$P/meta.env"
root=$BUILD/root doc=$BUILD/root/usr/share/doc/$NAME
step "lay out $NAME $VERSION"
install -d -m 0755 "$root/DEBIAN" "$root/opt/$NAME" "$root/usr/bin" "$doc" \
    "$root/usr/share/applications" "$root/usr/share/lintian/overrides"
install -m 0755 "$DEPS/static/$NAME" "$root/opt/$NAME/$NAME"
# Relative, so the package also works unpacked under another root.
ln -s "../../opt/$NAME/$NAME" "$root/usr/bin/$NAME"
install -m 0644 "$P/$NAME.desktop" "$root/usr/share/applications/$NAME.desktop"
if [ -n "$ICON_SIZE" ]; then
    install -D -m 0644 "$P/icon.png" "$root/usr/share/icons/hicolor/$ICON_SIZE/apps/$NAME.png"
fi
install -m 0644 "$P/deb/copyright" "$doc/copyright"
gzip -9n < "$P/deb/changelog" > "$doc/changelog.gz"
install -m 0644 "$P/deb/lintian-overrides" "$root/usr/share/lintian/overrides/$NAME"
size=$(du -sk --apparent-size "$root" | cut -f1)
sed "s/@INSTALLED_SIZE@/$size/" "$P/deb/control" > "$root/DEBIAN/control"
# dpkg-deb clamps to SOURCE_DATE_EPOCH too; fixing every mtime here makes
# the tar members identical whatever the checkout's times were.
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
step "dpkg-deb"
# gzip: the payload is mostly compressed already; xz saves 3% for 14x the time.
dpkg-deb --root-owner-group -Zgzip -z9 --build "$root" "$OUT/${NAME}_${VERSION}_amd64.deb"
dpkg-deb --info "$OUT/${NAME}_${VERSION}_amd64.deb"
