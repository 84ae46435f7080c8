#!/usr/bin/env bash
# Runs every test: installs the external peers the tests drive when missing, publishes the
# AOT binary the end-to-end tests start, then runs the fast unit tests and the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")"

# The real peers the tests drive, from Debian's packages, installed once when missing (one
# apt-get update for all): postfix for smtp-source/smtp-sink (debconf preseeded, so no
# question and no daemon), openssl and python3, chromium + chromium-driver for the console's
# browser test, ngircd for the IRC output, supervisor and runit for the --master tests.
# No daemon of theirs is started here; the tests start their own on loopback ports.
missing=()
need() { # need PACKAGE PATH...: the package, when any of its paths is not there
  local package=$1; shift
  for path in "$@"; do
    if [ ! -x "$path" ] && ! command -v "$(basename "$path")" >/dev/null 2>&1; then
      missing+=("$package"); return
    fi
  done
}
need postfix /usr/sbin/smtp-source /usr/sbin/smtp-sink
need openssl /usr/bin/openssl
need python3 /usr/bin/python3
need chromium /usr/bin/chromium
need chromium-driver /usr/bin/chromedriver
need ngircd /usr/sbin/ngircd
need supervisor /usr/bin/supervisord /usr/bin/supervisorctl
need runit /usr/bin/runsv /usr/bin/sv
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo_cmd debconf-set-selections
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

./build.sh

dotnet build tests/failmail.Tests.csproj -nologo -v quiet
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
echo "test.sh: unit tests"
dotnet test tests/failmail.Tests.csproj --no-build -nologo --filter "Category!=EndToEnd" 2>&1 | tee -a "$log" || status=1
echo "test.sh: end-to-end tests against dist/failmail"
FAILMAIL_BIN="$PWD/dist/failmail" dotnet test tests/failmail.Tests.csproj --no-build -nologo --filter "Category=EndToEnd" 2>&1 | tee -a "$log" || status=1

# One closing line over both runs, in the plain form CI reads.
count() { grep -oE "$1: +[0-9]+" "$log" | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(count Passed)
failed=$(count Failed)
echo "$passed passed, $failed failed"
exit $status
