#!/usr/bin/env bash
# The main job, on a fresh Debian machine as root: install everything, bring up the embedded reference
# chain, run a headline probe run and the acceptance suites against it, write reports/index.html, and
# bring the chain down (also on failure or Ctrl-C).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 2

chainprobe() { node bin/chainprobe.js "$@"; }
trap 'chainprobe chain down >/dev/null 2>&1' EXIT INT TERM

rm -rf reports/run reports/suites
status=0
echo "== reference chain up"
chainprobe chain up || exit 1
echo "== headline run: 10 000 probes (100 B and 8000 B NetFlow-sized payloads) at 1 000 pps"
chainprobe run --profile fixtures/reference.json --count 10000 --pps 1000 --size 100,8000 --report reports/run || status=1
chainprobe chain down >/dev/null

echo "== acceptance suites (each file brings the chain up and down itself)"
CHAINPROBE_REPORTS=reports npx vitest run suites/ --reporter=default --reporter=junit --outputFile.junit=reports/suites-junit.xml || status=1

npx tsx scripts/write-index.ts reports
echo "reports: $(pwd)/reports/index.html"
exit $status
