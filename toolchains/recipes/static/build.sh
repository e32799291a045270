. ./common.sh
step "staticx from the wheelhouse (offline)"
"$DEPS/cpython/bin/python3.13" -m venv --without-pip "$BUILD/venv"
py="$BUILD/venv/bin/python"
pipwhl=$(ls "$DEPS"/cpython/lib/python3.13/ensurepip/_bundled/pip-*.whl)  # pip from CPython's own wheel
# PyInstaller too: staticx's hook reads the onefile's archive to add the
# libraries its extension modules need.
"$py" "$pipwhl/pip" --disable-pip-version-check install --no-compile --no-index --no-deps "$DEPS"/wheels/tools/*.whl
prog=$(ls "$DEPS/freeze")
step "staticx --no-compress $prog"
# --no-compress: about half the start-up CPU of the xz default, for ~2 MB.
# staticx refuses libraries with RUNPATH (the CPython recipe sets none).
"$py" ./staticx_clamped.py --no-compress "$DEPS/freeze/$prog" "$OUT/$prog"
# staticx writes 0700; an end user's binary (and the .deb's) wants 0755.
chmod 0755 "$OUT/$prog"
touch -d "@$SOURCE_DATE_EPOCH" "$OUT/$prog"
ls -l "$OUT"
