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

# DotLiquid is reflection-heavy and the trimmer can break it without a warning: render a
# fixture template (a standard filter, our regex filters, a Go-form expression) with the AOT
# binary and with the JIT build of the same code, and insist on identical output.
preview=(--from failmail@build.test --template tests/fixtures/digest.liquid
         --group-expr '{{match "\[\w+\]" (.Header.Get "Subject")}}' preview tests/fixtures/one.eml
         tests/fixtures/two.eml tests/fixtures/three.eml)
aot=$(./dist/failmail "${preview[@]}")
jit=$(dotnet bin/Release/net10.0/linux-x64/failmail.dll "${preview[@]}")
if [ "$aot" != "$jit" ]; then
  echo "build.sh: the AOT binary renders templates differently from the JIT build" >&2
  diff <(echo "$jit") <(echo "$aot") >&2 || true
  exit 1
fi
grep -q "2x disk full (\[db\])" <<<"$aot" || { echo "build.sh: template fixture output is wrong:" >&2; echo "$aot" >&2; exit 1; }
echo "build.sh: dist/failmail ready (template output identical under AOT and JIT)"
