#!/usr/bin/env bash
# Routing benchmark: three simulated vLLM replicas (SimulatorMain from the gateway's jar: continuous batching,
# automatic prefix caching, a KV pool), a multi-turn agentic workload shaped like Kilo Code (bench.AgenticLoad: a
# shared ~8k-token system prompt and 16 tools, growing histories, x-session-id), and in front of the same replicas, one
# after another: nginx round-robin, least_conn and a consistent hash of x-session-id, and the gateway with each of its
# routing policies. Every front gets a fresh simulator (cold caches) and the same sessions. Reports TTFT, output
# tokens/s, the replicas' prefix-cache hit rate and the extra upstream requests (hedges) per front and variant (equal
# replicas, one slow replica, stalling replicas), and PASS/MISS lines for the gateway's routing targets.
# See bench/README.md ("Routing benchmark") for what is measured, the knobs and how to read it.
#
# Files: lib/load.sh (paths; sources common.sh, servers.sh, ...), lib/routing.sh (settings, simulator, fronts,
# counters, one run), lib/routing-report.sh (tables, targets, results files), floor/ (AgenticLoad).
set -euo pipefail

# shellcheck source=lib/load.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/load.sh"
# shellcheck source=lib/report.sh
source "$BENCH_DIR/lib/report.sh"
# shellcheck source=lib/routing.sh
source "$BENCH_DIR/lib/routing.sh"
# shellcheck source=lib/routing-report.sh
source "$BENCH_DIR/lib/routing-report.sh"

FAILURES=()
DISTURBED=()
TARGET_ROWS=()
declare -A ROW_STATUS ROW_REQ ROW_ERR ROW_ERR_KINDS ROW_T50 ROW_T90 ROW_T99 ROW_E50 ROW_TOKS
declare -A ROW_DRIVER_JSON ROW_QUERIES ROW_HITS ROW_UPSTREAM ROW_SPLIT ROW_HIT ROW_EXTRA
declare -A ROW_HEDGES ROW_FRONT_CPU ROW_LOAD_CPU ROW_DISTURBED ROW_READY_MS ROW_SIM_ARGS ROW_GATEWAY_PROPS AFFINITY_BY_KEY

main() {
    local stamp variant front
    local -a plan=()
    read_routing_settings
    for variant in "${VARIANTS[@]}"; do
        for front in $(variant_fronts "$variant"); do
            in_list "$front" "${FRONTS[@]}" && plan+=("$variant/$front")
        done
    done
    ((${#plan[@]})) || die "no front of BENCH_ROUTING_FRONTS (${FRONTS[*]}) runs in BENCH_ROUTING_VARIANTS (${VARIANTS[*]})"
    VERIFY_WRITES=0
    NEEDED_TOOLS=(nginx curl java javap ps taskset timeout)
    begin_run routing
    STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    stamp=$(date -u +%Y%m%dT%H%M%SZ)

    resolve_gateway_jar
    resolve_simulator
    COMMIT="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    [[ -z $(git -C "$REPO_DIR" status --porcelain -- src pom.xml 2>/dev/null) ]] || COMMIT+=" (src modified)"
    build_helpers
    check_machine_quiet

    log "${#plan[@]} runs (${plan[*]}), about $((${#plan[@]} * (DURATION + 20) / 60 + 1)) minutes"
    local i=0 began=$SECONDS key
    for key in "${plan[@]}"; do
        i=$((i + 1))
        log "[$i/${#plan[@]}] $key ($(((SECONDS - began) / 60)) min so far)"
        run_front "${key%%/*}" "${key#*/}"
    done

    mkdir -p "$RESULTS_DIR"
    echo
    # Not through a pipe: the report fills TARGET_ROWS, which the JSON needs, so it must run in this shell.
    print_routing_report >"$RESULTS_DIR/routing-$stamp.txt"
    cat "$RESULTS_DIR/routing-$stamp.txt"
    print_routing_json >"$RESULTS_DIR/routing-$stamp.json"
    log "results written to bench/results/routing-$stamp.txt and .json"
    if ((${#FAILURES[@]})); then
        printf '[bench] FAILED: %s\n' "${FAILURES[@]}" >&2
        exit 1
    fi
}

main "$@"
