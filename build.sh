#!/usr/bin/env bash
# Publishes the trimmed native AOT linux-x64 binary to dist/failmail and fails on any
# trim or AOT warning. DotLiquid's assembly-level IL2104/IL3053 are silenced in
# failmail.csproj (it is rooted whole); every other warning is an error.
set -euo pipefail
cd "$(dirname "$0")"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet publish failmail.csproj -c Release -r linux-x64 -o dist -nologo -p:DebugType=none 2>&1 | tee "$log"
if grep -E "warning (IL|CS|CA)[0-9]+" "$log" >/dev/null; then
  echo "build.sh: publish printed trim/AOT or compiler warnings (above)" >&2
  exit 1
fi
test -x dist/failmail
echo "build.sh: dist/failmail ready"
