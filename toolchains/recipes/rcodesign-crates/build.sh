. ./common.sh
# Cargo's own registry settings (the default registry, the system CA); a private
# CARGO_HOME so nothing of the machine's cargo cache or config leaks in.
export CARGO_HOME="$BUILD/cargo-home" CARGO_TERM_PROGRESS_WHEN=never
step "$(cargo --version)"

# 1. The pin: Cargo.lock here fixes apple-codesign's version and sha256.
step "download apple-codesign (sha256 from Cargo.lock)"
mkdir -p "$BUILD/pin"
cp Cargo.toml Cargo.lock pin.rs "$BUILD/pin/"
(cd "$BUILD/pin" && cargo vendor --locked --versioned-dirs --quiet "$BUILD/pin-vendor" >/dev/null)
crate=$(ls -d "$BUILD"/pin-vendor/apple-codesign-*)

# 2. apple-codesign's own Cargo.lock (inside the crate checked above) pins every
# crate of its build, dev and optional ones included, so `cargo build --locked`
# of that crate finds all it resolves.
step "download the crates of $(basename "$crate")'s Cargo.lock"
cargo vendor --locked --versioned-dirs --quiet --manifest-path "$crate/Cargo.toml" "$OUT/vendor" >/dev/null
mkdir -p "$OUT/apple-codesign"
cp -R "$crate/." "$OUT/apple-codesign/"
rm -f "$OUT/apple-codesign/.cargo-checksum.json"
ls "$OUT/vendor" | wc -l | sed 's/$/ crates vendored/'
