#!/usr/bin/env bash
# Lints the gateway's OpenAPI document and one dataset document with Redocly.
# Needs `npm ci` at the repository root first (it runs npx --no-install).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$root"
go test ./openapi -run '^TestWriteDocs$' -count=1 -args -write-docs="$out" >/dev/null
npx --no-install redocly lint --config openapi/redocly.yaml "$out/gateway.json" "$out/dataset.json"
