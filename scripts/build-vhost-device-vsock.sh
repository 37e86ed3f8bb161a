#!/usr/bin/env bash
# Builds vhost-device-vsock, the userspace vhost-user vsock backend (rust-vmm) that gives a
# QEMU guest real AF_VSOCK without /dev/vhost-vsock, from its pinned crate source with
# patches/vhost-device-vsock-epollout.patch applied (the stock crate deadlocks under
# bidirectional traffic: see the patch's header), into .interop-bin/. No prebuilt downloads:
# cargo fetches the .crate from crates.io (checked against the pinned sha256 below), and the
# build uses the crate's own Cargo.lock (--locked).
# Idempotent: skipped when the installed binary's stamp names this crate version, this .crate
# and this patch. Called by scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'build-vhost-device-vsock: %s\n' "$*" >&2; }

CRATE=vhost-device-vsock
VERSION=0.3.0
CRATE_SHA256=52ce95d81af89ad693d067c650e42df0f217addfbc96cc4820f7c62eb4a28b13
patch_file="$PWD/patches/vhost-device-vsock-epollout.patch"
bindir="$PWD/.interop-bin"
bin="$bindir/$CRATE"
stamp="$bin.stamp"
want="$CRATE $VERSION crate-sha256=$CRATE_SHA256 patch-sha256=$(sha256sum "$patch_file" | cut -d' ' -f1)"

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ]; then
  log "$CRATE $VERSION (patched) is installed: build skipped"
  exit 0
fi

cargo=$(command -v cargo || true)
if [ -z "$cargo" ] && [ -x "$HOME/.cargo/bin/cargo" ]; then cargo="$HOME/.cargo/bin/cargo"; fi
[ -n "$cargo" ] || { log "cargo is missing (install a Rust toolchain, e.g. with rustup)"; exit 1; }
command -v patch >/dev/null || { log "patch is missing (Debian package patch)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vessel-vhost-device-vsock.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. The .crate, through cargo: a throwaway package that depends on exactly this version.
#    It lands in cargo's registry cache, which later runs reuse.
mkdir -p "$work/fetch/src"
cat >"$work/fetch/Cargo.toml" <<EOF
[package]
name = "fetch-$CRATE"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$CRATE = "=$VERSION"
EOF
echo 'fn main() {}' >"$work/fetch/src/main.rs"
log "cargo fetch $CRATE $VERSION"
"$cargo" fetch --quiet --manifest-path "$work/fetch/Cargo.toml"
cargo_home=${CARGO_HOME:-$HOME/.cargo}
crate_file=""
for f in "$cargo_home"/registry/cache/*/"$CRATE-$VERSION.crate"; do
  [ -f "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$CRATE_SHA256" ] && crate_file=$f && break
done
[ -n "$crate_file" ] || { log "no $CRATE-$VERSION.crate with sha256 $CRATE_SHA256 in $cargo_home/registry/cache"; exit 1; }

# 2. Unpack, patch, build with the crate's own lockfile.
tar -xzf "$crate_file" -C "$work"
src="$work/$CRATE-$VERSION"
log "patch -p1 < patches/$(basename "$patch_file")"
(cd "$src" && patch -p1 --forward --quiet <"$patch_file")
log "cargo fetch --locked (the crate's own Cargo.lock)"
"$cargo" fetch --quiet --locked --manifest-path "$src/Cargo.toml"
log "cargo build --release --locked (takes 1-3 minutes on 2 cores)"
CARGO_PROFILE_RELEASE_STRIP=symbols "$cargo" build --quiet --release --locked \
  --manifest-path "$src/Cargo.toml" --target-dir "$work/target"

# 3. Install: the binary first, the stamp last (an interrupted run leaves no stamp).
mkdir -p "$bindir"
rm -f "$stamp"
install -m 0755 "$work/target/release/$CRATE" "$bin.tmp"
mv -f "$bin.tmp" "$bin"
printf '%s\n' "$want" >"$stamp"
log "installed $bin ($want)"
