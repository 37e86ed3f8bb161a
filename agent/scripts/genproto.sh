#!/usr/bin/env bash
# Regenerates agent/internal/testpb (proto/vessel/test/v1/interop.proto) and
# agent/internal/agentpb (proto/vessel/agent/v1/agent.proto).
# Needs protoc on PATH; installs the Go generators (pinned to go.mod's versions) into a temp GOBIN.
# Idempotent: running it twice yields identical files.
set -euo pipefail

agent_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_dir="$(cd "${agent_dir}/.." && pwd)"

gobin="$(mktemp -d)"
trap 'rm -rf "${gobin}"' EXIT

cd "${agent_dir}"
protobuf_version="$(go list -m -f '{{.Version}}' google.golang.org/protobuf)"
ttrpc_version="$(go list -m -f '{{.Version}}' github.com/containerd/ttrpc)"
GOBIN="${gobin}" go install "google.golang.org/protobuf/cmd/protoc-gen-go@${protobuf_version}"
GOBIN="${gobin}" go install "github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc@${ttrpc_version}"

# gen PROTO_DIR_IN_REPO PACKAGE_DIR: one proto package into one Go package directory.
gen() {
  local proto="$1" pkg_dir="$2"
  local out="${agent_dir}/${pkg_dir}"
  mkdir -p "${out}"
  rm -f "${out}"/*.pb.go
  PATH="${gobin}:${PATH}" protoc \
    --proto_path="${repo_dir}/proto" \
    --go_out="${out}" --go_opt=paths=source_relative \
    --go_opt="M${proto}=vessel.dev/agent/${pkg_dir}" \
    --go-ttrpc_out="${out}" --go-ttrpc_opt=paths=source_relative \
    --go-ttrpc_opt="M${proto}=vessel.dev/agent/${pkg_dir}" \
    "${proto}"
  # source_relative keeps the proto's directory; flatten it into the package directory.
  mv "${out}/$(dirname "${proto}")/"*.pb.go "${out}/"
  rm -rf "${out}/vessel"
}

gen vessel/test/v1/interop.proto internal/testpb
gen vessel/agent/v1/agent.proto internal/agentpb
