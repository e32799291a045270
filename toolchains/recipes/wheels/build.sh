. ./common.sh
# pip comes from CPython's own ensurepip (bundled in the source tarball), so
# nothing unpinned is downloaded; the index, proxy and CA come from the
# farm (PIP_* variables of the machine's pip config), never from here.
step "pip from the built CPython's ensurepip"
"$DEPS/cpython/bin/python3.13" -m venv "$BUILD/venv"
py="$BUILD/venv/bin/python"
pip() { "$py" -m pip --disable-pip-version-check --no-input "$@"; }

# fetch GROUP LOCK: download exactly the pinned files (every one checked by sha256).
fetch() {
    step "download $1 ($2)"
    mkdir -p "$BUILD/dl/$1" "$OUT/$1"
    pip download --no-deps --require-hashes --progress-bar off -d "$BUILD/dl/$1" -r "$2"
}
fetch tools ./tools.lock
for lock in "$INPUTS"/requirements/*.lock; do
    [ -e "$lock" ] || continue
    fetch "$(basename "$lock" .lock)" "$lock"
done

# Published only as source (stem): build the wheel here, offline, with the
# pinned setuptools, so the freeze step only ever installs wheels.
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
(cd "$OUT" && find . -name '*.whl' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
cat "$OUT/SHA256SUMS"
