. ./common.sh
umask 022
P=$INPUTS/package/macos
. "$P/meta.env"
fail() { echo "macapp: $*" >&2; exit 1; }

set -- "$DEPS"/freeze/*.app
[ $# -eq 1 ] && [ -d "$1" ] || fail "the freeze step must leave exactly one .app in its out/ (found: $*)"
app="$BUILD/$(basename "$1")"
step "assemble $(basename "$app")"
cp -R "$1" "$app"
[ -f "$app/Contents/MacOS/$APP_EXECUTABLE" ] ||
    fail "$(basename "$app") has no Contents/MacOS/$APP_EXECUTABLE; freeze must run PyInstaller with --name $APP_EXECUTABLE"
# PyInstaller's own ad-hoc seal covers its Info.plist, which is replaced here.
rm -rf "$app/Contents/_CodeSignature"
install -m 0644 "$P/Info.plist" "$app/Contents/Info.plist"
if [ -n "$ICON_FILE" ]; then
    install -m 0644 "$P/$ICON_FILE" "$app/Contents/Resources/$ICON_FILE"
fi
# Next to the executable: the runtime looks for tor in sys.executable's folder
# (runtime/apaf/tor/binary.py), and Contents/MacOS is where signed helper programs go.
install -m 0755 "$DEPS/tor/bin/tor" "$app/Contents/MacOS/tor"

# Same bytes whatever the checkout's modes and times: the seal hashes contents only,
# but the .dmg made from this keeps modes and times.
normalise() {
    find "$app" -type d -exec chmod 0755 {} +
    find "$app" -type f -perm /0111 -exec chmod 0755 {} +
    find "$app" -type f ! -perm /0111 -exec chmod 0644 {} +
    find "$app" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}
normalise

# Ad-hoc: the minimum an arm64 Mac runs. A Developer ID signature with hardened
# runtime and notarization is added on the release machine, where the keys are
# (builders/bundle/macos/codesign.py; builders/README.md, "macOS").
step "rcodesign sign (ad-hoc)"
"$DEPS/rcodesign/bin/rcodesign" sign "$app"
normalise
cp -R -p "$app" "$OUT/"
ls -l "$OUT/$(basename "$app")/Contents/MacOS"
