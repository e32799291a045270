. ./common.sh
. "$INPUTS/package/meta.env"
# The same layout through Apple's hdiutil (dmgbuild drives it), for a release
# engineer who wants the image made on a Mac; not bit-reproducible (hdiutil
# stamps dates and random ids), unlike build.sh's. dmgbuild must be installed:
#   python3 -m pip install dmgbuild
app=$(cd "$DEPS/macapp" && ls -d ./*.app | head -n1)
bundle=$(basename "$app" .app)
arch=$(uname -m); [ "$arch" = arm64 ] || arch=x86_64
cp layout.json background.png "$BUILD/"
cp -R "$DEPS/macapp/$bundle.app" "$BUILD/"
cd "$BUILD"
sed "s/@NAME@/$bundle/g" layout.json > settings.json
python3 -m dmgbuild -s settings.json "$bundle" "$OUT/$NAME-$VERSION-macos-$arch.dmg"
