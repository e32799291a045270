# The macOS wheelhouse: as on Linux (build.sh, which explains the why), but every
# download is for the target's platform tag (PIP_PLATFORM, from the target's
# toolchain) rather than whatever the Mac running the step is, and the tools
# are the macOS ones (tools.macos.lock: PyInstaller, no staticx).
. ./common.sh
step "pip from the built CPython's ensurepip"
"$DEPS/cpython/bin/python3.13" -m venv "$BUILD/venv"
py="$BUILD/venv/bin/python"
pip() { "$py" -m pip --disable-pip-version-check --no-input "$@"; }

# fetch GROUP LOCK: download exactly the pinned files for the target's platform.
# --no-deps is what lets --platform go without --only-binary: the locks list every
# package, and sdist-only ones (stem) are built below.
fetch() {
    step "download $1 ($2) for $PIP_PLATFORM"
    mkdir -p "$BUILD/dl/$1" "$OUT/$1"
    pip download --no-deps --require-hashes --progress-bar off --platform "$PIP_PLATFORM" \
        --python-version 3.13 --implementation cp -d "$BUILD/dl/$1" -r "$2"
}
if ! grep -q '^pyinstaller==' ./tools.lock || grep -q '^staticx==' ./tools.lock; then
    echo "error: tools.lock here is the Linux one; the macOS tools lock (tools.macos.lock) is missing" >&2
    exit 1
fi
fetch tools ./tools.lock
for lock in "$INPUTS"/requirements/*.lock; do
    [ -e "$lock" ] || continue
    fetch "$(basename "$lock" .lock)" "$lock"
done

step "install setuptools to build sdists"
pip install --no-index --no-deps "$BUILD"/dl/tools/setuptools-*.whl
for dir in "$BUILD"/dl/*; do
    group=$(basename "$dir")
    for f in "$dir"/*; do
        case "$f" in
            *.whl) cp "$f" "$OUT/$group/" ;;
            *) step "build wheel from $(basename "$f")"
               pip wheel --no-deps --no-index --no-build-isolation -w "$OUT/$group" "$f" ;;
        esac
    done
done
step "wheelhouse"
(cd "$OUT" && find . -name '*.whl' | LC_ALL=C sort | xargs shasum -a 256 > SHA256SUMS)
cat "$OUT/SHA256SUMS"
