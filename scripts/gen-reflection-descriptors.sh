#!/usr/bin/env bash
# Writes proto/reflection.binpb: the FileDescriptorSet that `vessel serve` answers gRPC
# reflection with (src/api/reflection.ts), compiled by protoc from the .proto files it
# serves, so reflection clients see the files' own field names, json_name and map entries.
#   vessel.vm.v1     proto/vessel/vm/v1/vm.proto
#   grpc.health.v1   grpc-health-check's health.proto, under its canonical name
#                    grpc/health/v1/health.proto (the package ships it as health/v1/...)
# Run it after changing either file; test/unit/api/reflection-descriptors.test.ts fails
# while the checked-in file is stale. Usage: gen-reflection-descriptors.sh [OUT]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$root/proto/reflection.binpb}")"
health="$root/node_modules/grpc-health-check/proto/health/v1/health.proto"
[ -f "$health" ] || { echo "gen-reflection-descriptors: $health is missing: run npm ci" >&2; exit 1; }
staged="$(mktemp -d)"
trap 'rm -rf "$staged"' EXIT
mkdir -p "$staged/grpc/health/v1"
cp "$health" "$staged/grpc/health/v1/health.proto"
protoc -I"$root/proto" -I"$staged" --include_imports --include_source_info --descriptor_set_out="$out" \
  vessel/vm/v1/vm.proto grpc/health/v1/health.proto
