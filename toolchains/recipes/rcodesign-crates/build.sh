. ./common.sh
# Cargo's own registry settings (its default registry, the system CA); a private
# CARGO_HOME so nothing of the machine's cargo cache leaks in.
export CARGO_HOME="$BUILD/cargo-home" CARGO_TERM_PROGRESS_WHEN=never
step "$(cargo --version)"
read -r name version sha256 <<PIN
$(grep -v '^#' crate.pin)
PIN

# 1. The pinned crate: a throwaway package depending on exactly that version makes cargo
# download it; its .crate file must have the pinned sha256 before anything is used.
step "download $name $version (sha256 pinned in crate.pin)"
mkdir -p "$BUILD/pin/src"
cat > "$BUILD/pin/Cargo.toml" <<TOML
[package]
name = "apaf-pin"
version = "0.0.0"
edition = "2021"
[dependencies]
$name = "=$version"
TOML
: > "$BUILD/pin/src/lib.rs"
(cd "$BUILD/pin" && cargo fetch --quiet)
crate_file=$(find "$CARGO_HOME/registry/cache" -name "$name-$version.crate" | head -n 1)
[ -n "$crate_file" ] || { echo "cargo fetched no $name-$version.crate" >&2; exit 1; }
got=$(sha256sum "$crate_file" | cut -d' ' -f1)
if [ "$got" != "$sha256" ]; then
    echo "$name-$version.crate: sha256 $got, expected $sha256 (crate.pin): refusing it" >&2
    exit 1
fi
mkdir -p "$OUT/$name"
tar -xzf "$crate_file" -C "$OUT/$name" --strip-components=1
rm -f "$OUT/$name/.cargo-checksum.json"

# 2. The crate's own Cargo.lock (inside the bytes checked above) pins every crate of its
# build, dev and optional ones included, each by sha256, which `cargo vendor --locked`
# checks; `cargo build --locked` of that crate then finds all it resolves.
step "download the crates of $name $version's Cargo.lock"
cargo vendor --locked --versioned-dirs --quiet --manifest-path "$OUT/$name/Cargo.toml" "$OUT/vendor" >/dev/null
ls "$OUT/vendor" | wc -l | sed 's/$/ crates vendored/'
