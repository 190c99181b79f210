#!/usr/bin/env bash
# Throughput and latency benchmark: the packaged gateway next to two reference proxies, nginx and a featureless
# Vert.x reverse proxy (the "floor"), in front of a fake vLLM that writes every SSE event with its own write(2).
#
# Modes: non-stream (whole JSON body), burst (a 36-chunk stream + [DONE], all events at once), paced (one event every
# BENCH_PACE_MS ms, BENCH_PACED_CONNECTIONS streams), lowload (1 connection: non-stream p50/p99 and time to first
# token). Targets: direct (the upstream itself), nginx, floor, gateway. With 2+ cores the proxies run pinned to one
# core, wrk + the upstream on another. See bench/README.md for what is measured, the knobs and how to read it.
#
# Files: lib/load.sh (paths; sources the rest), lib/common.sh (settings, tools, CPU accounting, cleanup),
# lib/servers.sh (building and starting), lib/checks.sh (requests, the per-write proof, answer checks),
# lib/measure.sh (wrk and low-load runs), lib/report.sh (tables, targets, results files), floor/ (Maven project:
# Floor, NettyFloor, FakeVllm, LowLoad).
set -euo pipefail

# shellcheck source=lib/load.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/load.sh"
# shellcheck source=lib/report.sh
source "$BENCH_DIR/lib/report.sh"

FAILURES=()
DISTURBED=()
TARGET_ROWS=()
declare -A RPS P50 P99 REQS NON2XX SOCKERR CPU_PROXY US_PER_REQ RSS CPU_UPSTREAM CPU_WRK CPU_OTHER CPU_OTHER0 CPU_IRQ DISTURBED_KEY
declare -A ROUND_RPS ROUND_P50 ROUND_P99 ACC_REQS ACC_NON2XX ACC_SOCKERR ACC_TICKS ACC_WRK_S ACC_CPU
declare -A WARMED=() LL_JSON_P50 LL_JSON_P99 LL_TTFT_P50 LL_TTFT_P99 LL_STREAM_P50

main() {
    read_settings
    begin_run bench
    STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    local stamp mode target
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    WRK_MODES=()
    for mode in "${MODES[@]}"; do [[ $mode == lowload ]] || WRK_MODES+=("$mode"); done

    if in_list gateway "${TARGETS[@]}"; then resolve_gateway_jar; else GATEWAY_JAR="(not run)"; fi
    COMMIT="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    [[ -z $(git -C "$REPO_DIR" status --porcelain -- src pom.xml 2>/dev/null) ]] || COMMIT+=" (src modified)"
    build_helpers
    check_machine_quiet

    read -r UP_PORT NGINX_PORT FLOOR_PORT GW_PORT <<<"$(free_ports 4)"
    start_upstream
    ((VERIFY_WRITES)) && verify_upstream_writes
    in_list nginx "${TARGETS[@]}" && start_nginx
    in_list floor "${TARGETS[@]}" && start_floor
    in_list gateway "${TARGETS[@]}" && start_gateway
    PROXY_PIDS="${NGINX_PIDS:-} ${FLOOR_PID:-} ${GATEWAY_PID:-}"
    OWN_PIDS="$UPSTREAM_PID $PROXY_PIDS"
    AFFINITY=$(affinity_of upstream "$UPSTREAM_PID" nginx "${NGINX_PIDS:-}" floor "${FLOOR_PID:-}" gateway "${GATEWAY_PID:-}")
    verify_answers

    for mode in "${WRK_MODES[@]}"; do measure_mode "$mode"; done
    if in_list lowload "${MODES[@]}"; then
        for target in "${TARGETS[@]}"; do measure_lowload "$target"; done
    fi

    mkdir -p "$RESULTS_DIR"
    echo
    # Not through a pipe: the report fills TARGET_ROWS, which the JSON needs, so it must run in this shell.
    print_report >"$RESULTS_DIR/$stamp.txt"
    cat "$RESULTS_DIR/$stamp.txt"
    print_json >"$RESULTS_DIR/$stamp.json"
    log "results written to bench/results/$stamp.txt and .json"
    if ((${#FAILURES[@]})); then
        printf '[bench] FAILED: %s\n' "${FAILURES[@]}" >&2
        exit 1
    fi
}

main "$@"
