. ./common.sh
W=$DEPS/wheels
step "a venv of the built CPython with the pinned wheels (offline)"
# pip runs from CPython's bundled wheel instead of being installed by ensurepip: a
# venv without pip is made in a fraction of the time, and nothing here needs pip later.
"$DEPS/cpython/bin/python3.13" -m venv --without-pip "$BUILD/venv"
py="$BUILD/venv/bin/python"
pipwhl=$(ls "$DEPS"/cpython/lib/python3.13/ensurepip/_bundled/pip-*.whl)
pip() { "$py" "$pipwhl/pip" --disable-pip-version-check --no-input "$@"; }
# --no-compile: PyInstaller compiles what it freezes; nothing else needs the .pyc files.
pip install --no-compile --no-index --no-deps "$W"/tools/*.whl "$W"/runtime/*.whl $(ls "$W"/app/*.whl 2>/dev/null || true)

# Inputs are read-only and carry the checkout's mtimes: work on copies with
# one fixed mtime, so nothing of where or when they were checked out leaks in.
step "copy the runtime and the app"
for tree in runtime app; do
    cp -r "$INPUTS/$tree" "$BUILD/$tree"
    find "$BUILD/$tree" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
    find "$BUILD/$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
done
# The runtime is imported from its copy (PYTHONPATH), not installed: nothing reads
# its metadata, and building a wheel of it would cost a setuptools run per freeze.
export PYTHONPATH="$BUILD/runtime"
set -- $("$py" -c 'import sys; from apaf.manifest import load_manifest
m = load_manifest(sys.argv[1]); print(m.name, m.entry.split(":")[0])' "$BUILD/app")
name=$1 module=$2

# The programs the app lists in extra_binaries (the farm made their recipes deps of this
# step, toolchains/bundles/*.toml [binaries]) go to bin/ of the bundle, where
# apaf.binary() looks; an app that lists none gets none.
extra=""
for f in $("$py" -c 'import sys; from apaf.manifest import load_manifest; from apaf.binaries import PROGRAMS
m = load_manifest(sys.argv[1]); print(" ".join(f for n in m.extra_binaries for f in PROGRAMS[n].files))' "$BUILD/app"); do
    set -- "$DEPS"/*/bin/"$f"
    [ $# = 1 ] && [ -x "$1" ] || { echo "extra binary $f: want one $DEPS/<recipe>/bin/$f, found: $*" >&2; exit 1; }
    extra="$extra --add-binary $1:bin"
done

step "PyInstaller $name (entry module $module)"
# Left out for size (README): stem's interpreter prompt, manual database and test
# tools; sqlite3 and unittest as far as only stem imports them (hooks/hook-stem.py);
# frozenlist's C++ build, which alone brings libstdc++.
# PYTHONHASHSEED=0 alone makes PyInstaller's output identical run to run
# (set and frozenset order in the archived code). Paths are absolute because
# --specpath moves where relative ones would be resolved from.
PYTHONHASHSEED=0 "$py" -m PyInstaller --onefile --strip --noconfirm --clean --log-level WARN \
    --name "$name" --distpath "$OUT" --workpath "$BUILD/pyi" --specpath "$BUILD/spec" \
    --paths "$BUILD/app" --hidden-import "$module" \
    --collect-submodules apaf --collect-data apaf --collect-submodules stem \
    --exclude-module stem.interpreter --exclude-module stem.manual --exclude-module stem.util.test_tools \
    --exclude-module frozenlist._frozenlist --additional-hooks-dir /srv/apaf/recipe/hooks \
    --add-data "$BUILD/app:apps/$name" \
    --add-binary "$DEPS/tor/bin/tor:." \
    $extra \
    /srv/apaf/recipe/bundle_main.py
ls -l "$OUT"
