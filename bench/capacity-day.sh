#!/usr/bin/env bash
# Issue 23 item 8: a compressed day of demand, always-on capacity sized for the peak against the capacity policy.
#
# Runs CapacityDayTest#theFullDayBenchmark through Maven's test classpath: the gateway (Quarkus test instance, profile
# simday) with its real request path, the real CapacityController and ComputeService against the fake Vast.ai API over
# loopback HTTP, simulated vLLM replicas on a virtual clock; money is the fake provider's own billing (time x $/h).
# See bench/README.md, "Capacity day".
#
# Settings (environment):
#   CAPDAY_DAY   full (default: 1-minute steps, peak plateau 30 req/min) or quick (the CI day: 2-minute steps, 10 req/min)
#   CAPDAY_SEED  seed of the day's arrivals and launch times (default 23)
#   CAPDAY_OUT   result file (default bench/results/capacity-day-<UTC>.txt)
# Exit code: 0 when both targets are met, 1 when one is missed or the run failed (the Maven log is printed).
set -uo pipefail
cd "$(dirname "$0")/.."
day=${CAPDAY_DAY:-full}
seed=${CAPDAY_SEED:-23}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${CAPDAY_OUT:-bench/results/capacity-day-$stamp.txt}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")"
log=$(mktemp -t capacity-day-XXXXXX.log)
echo "capacity day: $day day, seed $seed, result $out (Maven log $log)"
start=$(date +%s)
./mvnw -B -q test -Dtest='CapacityDayTest#theFullDayBenchmark' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dcapacity.day="$day" -Dcapacity.day.seed="$seed" -Dcapacity.day.out="$out" >"$log" 2>&1
rc=$?
end=$(date +%s)
if [ ! -s "$out" ]; then
    tail -n 80 "$log"
    echo "capacity day: no result written (Maven exit $rc)" >&2
    exit 1
fi
{
    echo
    echo "command: CAPDAY_DAY=$day CAPDAY_SEED=$seed bench/capacity-day.sh ($((end - start)) s with Maven and the gateway's start)"
    echo "git: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)')"
    echo "machine: $(nproc) CPUs, $(java -version 2>&1 | head -1)"
} >>"$out"
sed -n '1,/ arm: events/p' "$out"
tail -n 3 "$out"
if [ $rc -ne 0 ] || grep -q '^MISS' "$out"; then
    echo "capacity day: target missed or run failed (Maven exit $rc)" >&2
    exit 1
fi
echo "capacity day: targets met"
