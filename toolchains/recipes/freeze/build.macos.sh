. ./common.sh
W=$DEPS/wheels
step "a venv of the built CPython with the pinned wheels (offline)"
"$DEPS/cpython/bin/python3.13" -m venv --without-pip "$BUILD/venv"
py="$BUILD/venv/bin/python"
pipwhl=$(ls "$DEPS"/cpython/lib/python3.13/ensurepip/_bundled/pip-*.whl)
pip() { "$py" "$pipwhl/pip" --disable-pip-version-check --no-input "$@"; }
pip install --no-compile --no-index --no-deps "$W"/tools/*.whl "$W"/runtime/*.whl $(ls "$W"/app/*.whl 2>/dev/null || true)

step "copy the runtime and the app"
for tree in runtime app; do
    cp -R "$INPUTS/$tree" "$BUILD/$tree"
    chmod -R u+w "$BUILD/$tree"
    find "$BUILD/$tree" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
    # BSD touch has no -d @EPOCH: the date in its -t form, in UTC (common.sh sets TZ).
    find "$BUILD/$tree" -exec touch -h -t "$(date -u -r "$SOURCE_DATE_EPOCH" +%Y%m%d%H%M.%S)" {} +
done
export PYTHONPATH="$BUILD/runtime"
set -- $("$py" -c 'import sys; from apaf.manifest import load_manifest
m = load_manifest(sys.argv[1]); print(m.name, m.entry.split(":")[0])' "$BUILD/app")
name=$1 module=$2

step "PyInstaller $name.app (entry module $module)"
# --windowed: a .app bundle (no terminal); onedir inside it, as macOS expects.
# No --strip: stripping after PyInstaller's ad-hoc signing would break it;
# the macapp step re-signs the finished bundle anyway.
PYTHONHASHSEED=0 "$py" -m PyInstaller --windowed --noconfirm --clean --log-level WARN \
    --name "$name" --distpath "$BUILD/dist" --workpath "$BUILD/pyi" --specpath "$BUILD/spec" \
    --paths "$BUILD/app" --hidden-import "$module" \
    --collect-submodules apaf --collect-data apaf --collect-submodules stem \
    --add-data "$BUILD/app:apps/$name" \
    "$APAF_ROOT/recipe/bundle_main.py"
mv "$BUILD/dist/$name.app" "$OUT/"
ls -l "$OUT"
