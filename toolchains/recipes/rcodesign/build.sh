. ./common.sh
# Debian's cargo (bookworm: the cargo-web package, Rust >= 1.85; apple-codesign
# needs 1.81): a fresh Debian gets it from its own archive, no rustup.
export CARGO_HOME="$BUILD/cargo-home" CARGO_TERM_PROGRESS_WHEN=never
# A tool for the Linux builder itself: the target's compiler variables (a macOS
# target's "clang -arch arm64") must not reach the C parts (ring) of the build.
unset CC CXX CPPFLAGS CXXFLAGS LDFLAGS HOST_TRIPLET MACOSX_DEPLOYMENT_TARGET SDKROOT
export CFLAGS="-O2 -ffile-prefix-map=$BUILD=. -ffile-prefix-map=$DEPS=."
export CARGO_TARGET_DIR="$BUILD/target" CARGO_PROFILE_RELEASE_STRIP=symbols
# Paths in panics and debug info must not depend on where the crates were unpacked.
export RUSTFLAGS="--remap-path-prefix=$DEPS/rcodesign-crates=/rcodesign --remap-path-prefix=$BUILD=/build"
step "$(cargo --version); $(rustc --version)"
mkdir -p "$CARGO_HOME"
cat > "$CARGO_HOME/config.toml" <<CONFIG
[source.crates-io]
replace-with = "vendored"
[source.vendored]
directory = "$DEPS/rcodesign-crates/vendor"
CONFIG
cp -R "$DEPS/rcodesign-crates/apple-codesign" "$BUILD/apple-codesign"
cd "$BUILD/apple-codesign"
step "cargo build --release --locked --offline --bin rcodesign"
cargo build --release --locked --offline --jobs "$JOBS" --bin rcodesign
mkdir -p "$OUT/bin"
cp "$CARGO_TARGET_DIR/release/rcodesign" "$OUT/bin/rcodesign"
"$OUT/bin/rcodesign" --version
