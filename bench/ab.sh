#!/usr/bin/env bash
# A/B of two gateway builds (or one build with two sets of JVM options): CPU per request, B against A, on non-stream
# requests (AB_MODE=json, the default) or burst streams (AB_MODE=burst: 36 SSE events each, every one its own write).
#
# Why not two runs of run.sh: on a shared VM the host's load moves a proxy's CPU per request by 15-30 % between
# minutes, more than most changes to the request path. Here both gateways are pinned to the same core and loaded at
# the same time, each by its own wrk on the load core, so whatever the host does hits both alike: the ratio of their
# CPU microseconds per request stays within ~3 % round to round, and the median of 6 rounds within ~1 % (the same jar
# against itself: median 0.990, rounds 0.976-1.034). A change worth less than ~2 % cannot be told from nothing.
#
# Valid for variants with the same threads and about the same footprint (a code change on the request path). Not for
# comparing against the floor or nginx (a smaller process keeps more of the shared caches), nor for thread-count
# settings (the scheduler shares the core by thread, so the process with more threads gets more of it): run.sh
# measures those one after another.
#
# Usage: bench/ab.sh <jar-A> <jar-B>      (a jar is target/quarkus-app/quarkus-run.jar of a build; copy the
#                                          quarkus-app directory of each build somewhere first)
# Knobs: AB_MODE (json or burst); AB_ROUNDS (6) rounds of AB_SECONDS (20) after AB_WARMUP (80) seconds of both under load; AB_OPTS_A / AB_OPTS_B
# extra JVM options for each; BENCH_CONNECTIONS (32) per gateway; BENCH_PROXY_CPU / BENCH_LOAD_CPU as for run.sh.
set -euo pipefail

# shellcheck source=lib/load.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/load.sh"

# load_gateway <port> <seconds> <out>: one wrk on the load core against one gateway, in the background ($! is it).
load_gateway() {
    timeout $(($2 + 60)) "${PIN_LOAD[@]}" wrk -t1 -c"$CONNECTIONS" -d"$2s" --timeout "$WRK_TIMEOUT" \
        -s "$LUA" "http://127.0.0.1:$1/v1/chat/completions" >"$3" 2>&1 &
}

# run_both <seconds> <out-prefix>: both gateways under load at once; prints "reqs_a ticks_a reqs_b ticks_b".
run_both() {
    local seconds=$1 out=$2 a0 b0 a1 b1 pid_a pid_b rc=0
    a0=$(cpu_ticks "$PID_A")
    b0=$(cpu_ticks "$PID_B")
    load_gateway "$PORT_A" "$seconds" "$out-a.txt"
    pid_a=$!
    load_gateway "$PORT_B" "$seconds" "$out-b.txt"
    pid_b=$!
    wait "$pid_a" || rc=$?
    wait "$pid_b" || rc=$?
    a1=$(cpu_ticks "$PID_A")
    b1=$(cpu_ticks "$PID_B")
    ((rc == 0)) || { cat "$out-a.txt" "$out-b.txt" >&2; die "wrk failed (exit code $rc)"; }
    local f
    for f in "$out-a.txt" "$out-b.txt"; do
        ! grep -q -E 'Non-2xx|Socket errors' "$f" || { cat "$f" >&2; die "errors under load: every answer must be a 200"; }
    done
    echo "$(awk '/requests in/ { print $1 }' "$out-a.txt") $((a1 - a0)) $(awk '/requests in/ { print $1 }' "$out-b.txt") $((b1 - b0))"
}

main() {
    (($# == 2)) || die "usage: bench/ab.sh <jar-A> <jar-B>"
    local jar_a jar_b
    jar_a=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    jar_b=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    [[ -f $jar_a && -f $jar_b ]] || die "both jars must exist"
    local rounds=${AB_ROUNDS:-6} seconds=${AB_SECONDS:-20} warmup=${AB_WARMUP:-80} mode=${AB_MODE:-json}
    [[ $mode == json || $mode == burst ]] || die "AB_MODE must be json or burst, got '$mode'"
    [[ $rounds =~ ^[0-9]+$ && $seconds =~ ^[0-9]+$ && $warmup =~ ^[0-9]+$ ]] || die "AB_ROUNDS, AB_SECONDS, AB_WARMUP: whole numbers"
    ((rounds >= 1 && seconds >= 5 && warmup >= 20)) || die "at least 1 round of 5 s after 20 s of warm-up"
    read_settings
    VERIFY_WRITES=0 # strace is not needed: run.sh proves the upstream's per-event writes
    ((CORES >= 2)) || die "an A/B needs 2 cores: the gateways on one, the load on another"
    begin_run ab
    build_helpers
    read -r UP_PORT PORT_A PORT_B <<<"$(free_ports 3)"
    start_upstream
    GW_PORT=$PORT_A GATEWAY_JAR=$jar_a GATEWAY_NAME=gateway-a GATEWAY_JAVA_OPTS=${AB_OPTS_A:-} start_gateway
    PID_A=$GATEWAY_PID
    GW_PORT=$PORT_B GATEWAY_JAR=$jar_b GATEWAY_NAME=gateway-b GATEWAY_JAVA_OPTS=${AB_OPTS_B:-} start_gateway
    PID_B=$GATEWAY_PID
    GW_PORT=$PORT_A
    LUA=$(lua_file gateway "$mode")

    log "warm-up: both under load for ${warmup} s"
    local left=$warmup
    while ((left > 0)); do
        run_both $((left < 20 ? left : 20)) "$WORK_DIR/warm" >/dev/null
        left=$((left - 20))
    done

    local stamp i counts ra ta rb tb ua ub ratio
    local -a ratios=() lines=()
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    for ((i = 1; i <= rounds; i++)); do
        counts=$(run_both "$seconds" "$WORK_DIR/round") # an assignment, so that a failed round stops the script
        read -r ra ta rb tb <<<"$counts"
        ua=$(us_per_request "$ta" "$ra")
        ub=$(us_per_request "$tb" "$rb")
        ratio=$(awk -v a="$ua" -v b="$ub" 'BEGIN { printf "%.3f", b / a }')
        ratios+=("$ratio")
        lines+=("$(printf 'round %d: A %6d req/s %6.1f us/req   B %6d req/s %6.1f us/req   B/A CPU per request %s' \
            "$i" "$(per_second "$ra" "$seconds")" "$ua" "$(per_second "$rb" "$seconds")" "$ub" "$ratio")")
        log "${lines[-1]}"
    done
    mkdir -p "$RESULTS_DIR"
    {
        echo "gateway A/B, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "A: $jar_a ${AB_OPTS_A:+(options: $AB_OPTS_A)}"
        echo "B: $jar_b ${AB_OPTS_B:+(options: $AB_OPTS_B)}"
        echo "both on CPU $PROXY_CPU at once, wrk x2 + upstream on CPU $LOAD_CPU, $CONNECTIONS connections each, mode $mode,"
        echo "warm-up ${warmup} s, $rounds rounds of ${seconds} s, client key on, -Xms$JVM_HEAP -Xmx$JVM_HEAP"
        printf '%s\n' "${lines[@]}"
        echo "B/A CPU per request: median $(median "${ratios[@]}"), rounds ${ratios[*]} (below 1: B is cheaper)"
    } | tee "$RESULTS_DIR/ab-$stamp.txt"
    log "written to bench/results/ab-$stamp.txt"
}

main "$@"
