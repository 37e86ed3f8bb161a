#!/usr/bin/env bash
# Regenerates agent/internal/testpb from proto/vessel/test/v1/interop.proto.
# Needs protoc on PATH; installs the Go generators (pinned to go.mod's versions) into a temp GOBIN.
# Idempotent: running it twice yields identical files.
set -euo pipefail

agent_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_dir="$(cd "${agent_dir}/.." && pwd)"
out_dir="${agent_dir}/internal/testpb"

gobin="$(mktemp -d)"
trap 'rm -rf "${gobin}"' EXIT

cd "${agent_dir}"
protobuf_version="$(go list -m -f '{{.Version}}' google.golang.org/protobuf)"
ttrpc_version="$(go list -m -f '{{.Version}}' github.com/containerd/ttrpc)"
GOBIN="${gobin}" go install "google.golang.org/protobuf/cmd/protoc-gen-go@${protobuf_version}"
GOBIN="${gobin}" go install "github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc@${ttrpc_version}"

mkdir -p "${out_dir}"
rm -f "${out_dir}"/*.pb.go
PATH="${gobin}:${PATH}" protoc \
  --proto_path="${repo_dir}/proto" \
  --go_out="${out_dir}" --go_opt=paths=source_relative \
  --go_opt=Mvessel/test/v1/interop.proto=vessel.dev/agent/internal/testpb \
  --go-ttrpc_out="${out_dir}" --go-ttrpc_opt=paths=source_relative \
  --go-ttrpc_opt=Mvessel/test/v1/interop.proto=vessel.dev/agent/internal/testpb \
  vessel/test/v1/interop.proto

# source_relative keeps the proto's directory; flatten it into the package directory.
mv "${out_dir}/vessel/test/v1/"*.pb.go "${out_dir}/"
rm -rf "${out_dir}/vessel"
