. ./common.sh
. "$INPUTS/package/meta.env"
app=$(cd "$DEPS/macapp" && ls -d ./*.app | head -n1)
[ -n "$app" ] || { echo "no .app in the macapp step's output" >&2; exit 1; }
bundle=$(basename "$app" .app)
case "${HOST_TRIPLET:-}" in
    aarch64-*) arch=arm64 ;;
    *) arch=x86_64 ;;
esac
dmg="$OUT/$NAME-$VERSION-macos-$arch.dmg"
step "$bundle.app -> $(basename "$dmg") (layout.json: HFS+ by xorrisofs, UDIF zlib)"
# The builder's own python3 runs the farm's writer and its pinned libraries
# (no wheel to install, no network); layout.json's paths resolve from here.
PYTHONPATH="$INPUTS/dmgwriter" PYTHONDONTWRITEBYTECODE=1 python3 -m apaf_dmg.dmg \
    --layout ./layout.json --name "$bundle" --base "$DEPS/macapp" \
    --epoch "$SOURCE_DATE_EPOCH" --out "$dmg"
touch -d "@$SOURCE_DATE_EPOCH" "$dmg"
sha256sum "$dmg"
