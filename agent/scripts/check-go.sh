#!/usr/bin/env bash
# The Go checks for CI: gofmt -l and go vet over the agent module (agent/) and the Go
# interop client (interop/go). The interop client's stubs (package vmv1) are not committed:
# it is vetted in a temp copy with them generated the way test/interop-grpc/go.test.ts
# does (protoc with the plugins in .interop-bin/, installed by scripts/install-deps.sh).
# Prints each unformatted file and each vet finding; exits 1 if there is any.
set -euo pipefail

agent_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_dir="$(cd "${agent_dir}/.." && pwd)"
interop_dir="${repo_dir}/interop/go"
failed=0

# gofmt_check DIR: lists the files gofmt would change.
gofmt_check() {
  local out
  out="$(cd "$1" && gofmt -l .)"
  if [ -n "${out}" ]; then
    printf 'gofmt: not formatted (run gofmt -w) in %s:\n%s\n' "$1" "${out}"
    failed=1
  fi
}

# vet DIR LABEL: go vet ./... in DIR.
vet() {
  if ! (cd "$1" && go vet ./...); then
    echo "go vet: ${2} has findings (above)"
    failed=1
  fi
}

gofmt_check "${agent_dir}"
vet "${agent_dir}" agent

gofmt_check "${interop_dir}"
for p in protoc-gen-go protoc-gen-go-grpc; do
  if [ ! -x "${repo_dir}/.interop-bin/${p}" ]; then
    echo "${repo_dir}/.interop-bin/${p} is missing: run scripts/install-deps.sh" >&2
    exit 1
  fi
done
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
cp -R "${interop_dir}/." "${tmp}/"
PATH="${repo_dir}/.interop-bin:${PATH}" protoc -I"${repo_dir}/proto" \
  --go_out="${tmp}" --go_opt=module=vessel.dev/interop \
  --go-grpc_out="${tmp}" --go-grpc_opt=module=vessel.dev/interop \
  vessel/vm/v1/vm.proto
vet "${tmp}" interop/go

exit "${failed}"
