#!/usr/bin/env bash
# Installs what vessel's build and tests need on a fresh Debian machine of this kind.
# Idempotent: a second run changes nothing and finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'install-deps: %s\n' "$*" >&2; }

# --- toolchains (present on this machine kind; fail clearly if not) -------------------------
need_version() { # name have want
  if [ "$(printf '%s\n%s\n' "$3" "$2" | sort -V | head -n1)" != "$3" ]; then
    log "$1 $2 is older than the required $3"; exit 1
  fi
}
command -v node >/dev/null || { log "node is missing (need >= 20.19)"; exit 1; }
need_version node "$(node -p 'process.versions.node')" 20.19.0
go_min=$(awk '$1 == "go" { print $2 }' agent/go.mod)
command -v go >/dev/null || { log "go is missing (agent/go.mod needs >= $go_min)"; exit 1; }
need_version go "$(go env GOVERSION | sed 's/^go//')" "$go_min"

# --- Debian packages ---------------------------------------------------------------------------
# Packages the build and the test suite use; later layers (QEMU, passt, ...) add theirs here.
# Guest image (src/image): QEMU, static busybox for the initramfs, kmod (modinfo/depmod for
# checks), xz/zstd (compressed kernel modules), file; the kernel itself is downloaded by
# `vessel image build` with apt-get download into $VESSEL_HOME, never installed.
# VMs (src/vm): QEMU ships virtiofsd in Debian 12's qemu-system-common; passt for `--net`;
# util-linux (setpriv, unshare, mount) supervises helpers; e2fsprogs builds test disks.
# gRPC interop tests (test/interop-grpc): protoc for the Go stubs, python3-venv for the
# Python client's virtualenv. TypeScript types of proto/ (scripts/gen-proto-types.sh, checked
# by npm test): protoc with libprotobuf-dev's google/protobuf/*.proto.
# containerd shim (test/containerd): Debian's containerd (brings ctr) runs privately in the
# tests; runc is the reference runtime the tests and bench/ctr-run compare against.
# runc in the guest (src/image/runc.ts): built from its Go module with cgo, statically
# against libseccomp-dev's and libc6-dev's static libraries (gcc, pkg-config); e2fsprogs'
# mke2fs/debugfs write the image's tools disk that carries it.
# CRI tests (test/cri, bench/cri-pod, scripts/critest.sh): the CNI plugins (bridge, host-local,
# portmap in /usr/lib/cni; they bring iptables) for the CRI plugin's pod network.
# vsock backend (scripts/build-vhost-device-vsock.sh): patch applies the repo's fix to the
# crate source; cargo (a Rust toolchain) builds it, linking with gcc.
APT_PACKAGES=(ca-certificates qemu-system-x86 qemu-utils busybox-static kmod xz-utils zstd file passt util-linux e2fsprogs
  protobuf-compiler libprotobuf-dev python3 python3-venv containerd runc gcc libc6-dev pkg-config libseccomp-dev
  containernetworking-plugins patch)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = 'install ok installed' ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The guest kernel is fetched later with `apt-get download`, which needs package lists: on a
# fresh machine they may be empty even when nothing above was missing.
# (the policy text is captured first: `grep -q` closing the pipe early would make apt-cache
# die of SIGPIPE, which pipefail reports as a failure)
kernel_candidate() {
  local policy
  policy=$(LC_ALL=C apt-cache policy linux-image-cloud-amd64 2>/dev/null || true)
  grep -Eq '^ *Candidate: [^(]' <<<"$policy"
}
if ! kernel_candidate; then
  log "apt-get update (no candidate for linux-image-cloud-amd64 yet)"
  apt-get update -qq
  kernel_candidate || { log "apt has no linux-image-cloud-amd64 even after apt-get update"; exit 1; }
fi

# --- npm packages (exactly the lockfile) and the compiled TypeScript ---------------------------
# `npm ci` (which also compiles, through `prepare`) runs unless node_modules was installed by
# it from this very lockfile with this node: the stamp is written only after a successful
# `npm ci` and lives inside node_modules, so deleting node_modules brings the full run back.
# The compile is incremental; its build info lives in dist/, so deleting dist/ rebuilds all.
npm_stamp=node_modules/.vessel-npm-ci
npm_want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node -p 'process.versions.node')"
if [ -d node_modules ] && [ "$(cat "$npm_stamp" 2>/dev/null || true)" = "$npm_want" ]; then
  log "node_modules matches package-lock.json: npm ci skipped"
else
  log "npm ci"
  npm ci --no-audit --no-fund
  printf '%s\n' "$npm_want" > "$npm_stamp"
fi
log "tsc (incremental)"
npx --no-install tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo

# --- Go modules of the agent module (reference peers, later the guest agent) -------------------
log "go mod download"
(cd agent && go mod download)

# --- gRPC interop clients (test/interop-grpc) ----------------------------------------------------
# Python: grpcio, grpcio-tools (stubs are generated during the test), reflection and health, in
# a project-local virtualenv; rebuilt only when the requirements or the interpreter change.
venv=.venv-interop
py_req=test/interop-grpc/python/requirements.txt
command -v python3 >/dev/null || { log "python3 is missing (the Python gRPC interop client needs >= 3.9)"; exit 1; }
need_version python3 "$(python3 -c 'import platform; print(platform.python_version())')" 3.9
py_want="$(python3 -c 'import sys; print(sys.executable, sys.version)' | head -n1) $(sha256sum "$py_req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.vessel-installed" 2>/dev/null || true)" != "$py_want" ]; then
  log "python venv $venv (grpcio, grpcio-tools)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-input -r "$py_req"
  printf '%s\n' "$py_want" >"$venv/.vessel-installed"
fi
# Go: protoc plugins and grpcurl at fixed versions in a project-local GOBIN, and the interop
# module's deps.
PROTOC_GEN_GO=v1.36.12
PROTOC_GEN_GO_GRPC=v1.6.2
gobin="$PWD/.interop-bin"
if [ "$("$gobin/protoc-gen-go" --version 2>/dev/null || true)" != "protoc-gen-go $PROTOC_GEN_GO" ]; then
  log "go install protoc-gen-go@$PROTOC_GEN_GO"
  GOBIN="$gobin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO"
fi
if [ "$("$gobin/protoc-gen-go-grpc" --version 2>/dev/null || true)" != "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC#v}" ]; then
  log "go install protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC"
  GOBIN="$gobin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC"
fi
(cd interop/go && go mod download)
# grpcurl: a reflection-only Go client no one here wrote (test/interop-grpc/reflection.test.ts).
# It prints no version of its own when installed this way; the module version is in the binary.
GRPCURL=v1.9.4
if [ "$(go version -m "$gobin/grpcurl" 2>/dev/null | awk '$1 == "mod" { print $3 }')" != "$GRPCURL" ]; then
  log "go install grpcurl@$GRPCURL"
  GOBIN="$gobin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL"
fi
# crictl: the CRI client of the CRI tests (test/support/cri.ts) and bench/cri-pod, pinned; the
# Go module proxy serves cri-tools v1.34.0 (../shared/docs/cri.md). critest is built on demand
# by scripts/critest.sh (not in CI).
CRI_TOOLS=v1.34.0
if [ "$(go version -m "$gobin/crictl" 2>/dev/null | awk '$1 == "mod" { print $3 }')" != "$CRI_TOOLS" ]; then
  log "go install crictl@$CRI_TOOLS"
  GOBIN="$gobin" go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS"
fi

# --- vhost-device-vsock: the userspace vsock backend (src/vm/qemu/vsock-backend.ts) --------------
# Built from the pinned crate source with the repo's patch into .interop-bin (skipped when built).
bash scripts/build-vhost-device-vsock.sh
