#!/usr/bin/env bash
# Runs every test: installs the external peers the tests drive (Postfix's smtp-source and
# smtp-sink) when missing, publishes the AOT binary the end-to-end tests start, then runs
# the fast unit tests and the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v smtp-source >/dev/null 2>&1 && [ ! -x /usr/sbin/smtp-source ]; then
  echo "test.sh: installing postfix for smtp-source/smtp-sink (no daemon is started)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo_cmd debconf-set-selections
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends postfix >/dev/null
fi
if ! command -v openssl >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends openssl python3 >/dev/null
fi
if ! command -v supervisord >/dev/null 2>&1 || ! command -v runsv >/dev/null 2>&1; then
  # Real supervisors for the --master tests (EndToEnd/SupervisorTests); no daemon is started.
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends supervisor runit >/dev/null
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
