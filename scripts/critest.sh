#!/usr/bin/env bash
# critest v1.34.0 against a private containerd with the CRI plugin (test/support/cri.ts), once
# per runtime handler, runc first as the baseline of the same run; prints one JSON object
# (pass/fail/skip per handler, the failing specs, and what passes under runc but fails under
# vessel). Not part of npm test or CI: the whole suite takes long under vessel.
#
#   scripts/critest.sh [--handlers runc,vessel] [--focus RE] [--skip RE] [--out DIR]
#   e.g. scripts/critest.sh --focus 'PodSandbox|Container|Streaming|Networking'
#
# Builds what it needs into .interop-bin first (idempotent): critest (`go test -c ./cmd/critest`
# in a copy of the cri-tools module: it has only test files) and go-containerregistry's
# in-memory `registry` for the image specs. Needs root (containerd, CNI), like the CRI tests.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'critest.sh: %s\n' "$*" >&2; }

CRI_TOOLS=v1.34.0
GGCR=v0.22.1
gobin="$PWD/.interop-bin"
mkdir -p "$gobin"

critest_want="cri-tools $CRI_TOOLS $(go env GOVERSION)"
if [ ! -x "$gobin/critest" ] || [ "$(cat "$gobin/critest.version" 2>/dev/null || true)" != "$critest_want" ]; then
  log "building critest $CRI_TOOLS"
  src=$(go mod download -json "sigs.k8s.io/cri-tools@$CRI_TOOLS" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp -r "$src/." "$tmp/"
  chmod -R u+w "$tmp"
  (cd "$tmp" && go test -c -o "$gobin/critest.tmp" ./cmd/critest)
  mv "$gobin/critest.tmp" "$gobin/critest"
  rm -rf "$tmp"
  trap - EXIT
  printf '%s\n' "$critest_want" >"$gobin/critest.version"
fi
if [ "$(go version -m "$gobin/registry" 2>/dev/null | awk '$1 == "mod" { print $3 }')" != "$GGCR" ]; then
  log "go install go-containerregistry/cmd/registry@$GGCR"
  GOBIN="$gobin" go install "github.com/google/go-containerregistry/cmd/registry@$GGCR"
fi
[ -x "$gobin/crictl" ] || { log "crictl is missing: run scripts/install-deps.sh"; exit 1; }

npx --no-install tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo
exec node dist/test/cri/critest-run.js "$@"
