# shellcheck shell=bash
# bench/lib/report.sh: the tables, ratios and PASS/MISS lines, and the results files (.txt and .json).

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && a != "" && b != "" && b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && a > 0 && b > 0) printf "%+.3f", a - b; else printf "n/a" }'; }
has() { [[ -n ${RPS[$1]:-} ]]; }
# round_ratios <key> <reference key>: the req/s ratio of each round ("0.84 0.91 0.87"), or n/a.
round_ratios() {
    [[ -n ${ROUND_RPS[$1]:-} && -n ${ROUND_RPS[$2]:-} ]] || { printf 'n/a'; return; }
    awk -v a="${ROUND_RPS[$1]}" -v b="${ROUND_RPS[$2]}" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ")
        for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), (y[i] > 0 ? sprintf("%.2f", x[i] / y[i]) : "n/a") }'
}
in_list() { local x=$1; shift; [[ " $* " == *" $x "* ]]; }

# target_line <description> <value> <comparison: ge|le> <threshold> <unit>: one PASS/MISS line (n/a without data).
target_line() {
    local verdict shown=$2$5
    if [[ $2 == n/a ]]; then
        verdict="n/a " shown="n/a"
    else
        verdict=$(awk -v v="$2" -v t="$4" -v c="$3" 'BEGIN { ok = (c == "ge" ? v + 0 >= t : v + 0 <= t); print (ok ? "PASS" : "MISS") }')
    fi
    TARGET_ROWS+=("$verdict|$1|$2|$3|$4")
    printf '  %s  %-58s %12s  (target %s %s%s)\n' "$verdict" "$1" "$shown" "$([[ $3 == ge ]] && echo '>=' || echo '<=')" "$4" "$5"
}

print_report() {
    local mode target key d
    echo "Gateway benchmark $STARTED_AT, commit $COMMIT"
    settings_lines | sed 's/^/  /'
    echo
    if ((${#WRK_MODES[@]})); then
        printf '%-10s %-7s %9s %8s %8s %9s %7s %6s %7s %6s %6s %7s %5s %7s %7s %s\n' mode target req/s "p50 ms" "p99 ms" "CPU us/req" \
            "proxy%" "RSS" "upstr%" "wrk%" "other%" "other0%" "irq%" non-2xx sockerr disturbed
        for mode in "${WRK_MODES[@]}"; do
            for target in "${TARGETS[@]}"; do
                key="$mode/$target"
                has "$key" || continue
                [[ ${DISTURBED_KEY[$key]} == 1 ]] && d=yes || d=no
                printf '%-10s %-7s %9.0f %8s %8s %9s %7s %6s %7s %6s %6s %7s %5s %7s %7s %s\n' "$mode" "$target" "${RPS[$key]}" \
                    "${P50[$key]}" "${P99[$key]}" "${US_PER_REQ[$key]}" "${CPU_PROXY[$key]}" "${RSS[$key]}" \
                    "${CPU_UPSTREAM[$key]}" "${CPU_WRK[$key]}" "${CPU_OTHER[$key]}" "${CPU_OTHER0[$key]}" "${CPU_IRQ[$key]}" \
                    "${NON2XX[$key]}" "${SOCKERR[$key]}" "$d"
            done
        done
        echo "  CPU us/req = the proxy's utime+stime over the measured window / completed requests; proxy%, upstr%, wrk%,"
        echo "  other% = share of one core; RSS = proxy VmRSS MiB half-way through round 1; other = processes not started here"
        echo "  (other0 = the same on the proxy core alone); irq = irq + softirq + steal time of the machine (loopback TCP work)."
        echo
        printf '%-10s %16s %16s %19s %19s   %s\n' mode "gw/nginx req/s" "gw/floor req/s" "gw/nginx CPU/req" "gw/floor CPU/req" \
            "req/s by round: gw/nginx; gw/floor"
        for mode in "${WRK_MODES[@]}"; do
            printf '%-10s %16s %16s %19s %19s   %s; %s\n' "$mode" \
                "$(ratio "${RPS[$mode/gateway]:-}" "${RPS[$mode/nginx]:-}")" "$(ratio "${RPS[$mode/gateway]:-}" "${RPS[$mode/floor]:-}")" \
                "$(ratio "${US_PER_REQ[$mode/gateway]:-}" "${US_PER_REQ[$mode/nginx]:-}")" \
                "$(ratio "${US_PER_REQ[$mode/gateway]:-}" "${US_PER_REQ[$mode/floor]:-}")" \
                "$(round_ratios "$mode/gateway" "$mode/nginx")" "$(round_ratios "$mode/gateway" "$mode/floor")"
        done
        echo "  Each target ran $ROUNDS rounds of ${DURATION}s, interleaved with the others; req/s = all rounds' requests / their"
        echo "  time, CPU us/req = all rounds' CPU / their requests, p50/p99 = the median of the rounds'."
        echo
    fi
    if in_list lowload "${MODES[@]}"; then
        echo "Low load: 1 connection, $LOWLOAD_REQUESTS sequential requests after $LOWLOAD_WARMUP discarded (bench.LowLoad)"
        printf '%-8s %16s %16s %14s %14s %18s %s\n' target "non-stream p50" "non-stream p99" "TTFT p50" "TTFT p99" "stream end p50" disturbed
        for target in "${TARGETS[@]}"; do
            [[ -n ${LL_JSON_P50[$target]:-} ]] || continue
            [[ ${DISTURBED_KEY[lowload/$target]} == 1 ]] && d=yes || d=no
            printf '%-8s %13s ms %13s ms %11s ms %11s ms %15s ms %s\n' "$target" "${LL_JSON_P50[$target]}" "${LL_JSON_P99[$target]}" \
                "${LL_TTFT_P50[$target]}" "${LL_TTFT_P99[$target]}" "${LL_STREAM_P50[$target]}" "$d"
        done
        echo "  gateway - nginx p50: non-stream $(diff_ms "${LL_JSON_P50[gateway]:-}" "${LL_JSON_P50[nginx]:-}") ms, TTFT $(diff_ms "${LL_TTFT_P50[gateway]:-}" "${LL_TTFT_P50[nginx]:-}") ms"
        echo "  gateway - floor p50: non-stream $(diff_ms "${LL_JSON_P50[gateway]:-}" "${LL_JSON_P50[floor]:-}") ms, TTFT $(diff_ms "${LL_TTFT_P50[gateway]:-}" "${LL_TTFT_P50[floor]:-}") ms"
        echo
    fi
    if in_list gateway "${TARGETS[@]}"; then
        local loaded="" m
        for m in "${WRK_MODES[@]}"; do [[ -n ${RSS[$m/gateway]:-} ]] && loaded+=" $m ${RSS[$m/gateway]} MiB;"; done
        echo "Gateway: first answered request ${GATEWAY_START_MS} ms after the process started (floor: ${FLOOR_START_MS:-n/a} ms);"
        echo "  RSS idle (after start-up) ${GATEWAY_RSS_IDLE} MiB; under load:${loaded:- n/a}"
        echo
    fi
    if [[ $FLOOR_KIND == vertx ]]; then
        echo "Targets (issue 10):"
    else
        echo "Targets (issue 10; its floor is the Vert.x one: with BENCH_FLOOR=$FLOOR_KIND the floor lines only inform):"
    fi
    TARGET_ROWS=()
    target_line "non-stream: gateway/floor req/s" "$(ratio "${RPS[non-stream/gateway]:-}" "${RPS[non-stream/floor]:-}")" ge 1.0 x
    target_line "burst: gateway/floor req/s" "$(ratio "${RPS[burst/gateway]:-}" "${RPS[burst/floor]:-}")" ge 1.0 x
    target_line "burst: gateway/nginx req/s" "$(ratio "${RPS[burst/gateway]:-}" "${RPS[burst/nginx]:-}")" ge 0.5 x
    target_line "stretch, non-stream: gateway/nginx req/s" "$(ratio "${RPS[non-stream/gateway]:-}" "${RPS[non-stream/nginx]:-}")" ge 0.9 x
    target_line "stretch, burst: gateway/nginx req/s" "$(ratio "${RPS[burst/gateway]:-}" "${RPS[burst/nginx]:-}")" ge 0.9 x
    local paced_err=n/a
    has paced/gateway && paced_err=$((NON2XX[paced/gateway] + SOCKERR[paced/gateway]))
    target_line "paced $PACED_CONNECTIONS streams: gateway errors (non-2xx + socket)" "$paced_err" le 0 ""
    target_line "paced: gateway/nginx CPU per request" "$(ratio "${US_PER_REQ[paced/gateway]:-}" "${US_PER_REQ[paced/nginx]:-}")" le 1.2 x
    target_line "low load: non-stream p50 gateway - nginx" "$(diff_ms "${LL_JSON_P50[gateway]:-}" "${LL_JSON_P50[nginx]:-}")" le 0.3 " ms"
    target_line "low load: TTFT p50 gateway - nginx" "$(diff_ms "${LL_TTFT_P50[gateway]:-}" "${LL_TTFT_P50[nginx]:-}")" le 0.3 " ms"
    echo
    print_disturbed_and_errors "these numbers are low and noisy" "window"
}

# print_disturbed_and_errors <what disturbed numbers are> <what was measured>: the report's last lines, shared by
# run.sh and routing.sh: which measured windows (or runs) other processes disturbed, and the errors that fail the run.
print_disturbed_and_errors() {
    if ((${#DISTURBED[@]})); then
        echo "DISTURBED (other processes competed for the CPU; $1):"
        printf '  %s\n' "${DISTURBED[@]}"
    else
        echo "Not disturbed: other processes stayed under ${OTHER_CPU_LIMIT}% of a core in every measured $2."
    fi
    if ((${#FAILURES[@]})); then
        echo "ERRORS (the run fails):"
        printf '  %s\n' "${FAILURES[@]}"
    fi
}

# "gateway/json 60s, floor/json 30s, ...": how long each JVM warm-up ran before it settled.
warmed_summary() {
    local key out=""
    for key in $(printf '%s\n' "${!WARMED[@]}" | sort); do
        out+="${out:+, }$key ${WARMED[$key]}"
    done
    printf '%s' "$out"
}

settings_lines() {
    echo "machine: $CORES cores ($(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(uname -sr); before start ${QUIET_PCT}% of a core busy"
    if [[ -n $PROXY_CPU ]]; then
        echo "pinning: nginx, floor, gateway on CPU $PROXY_CPU (taskset at launch; the floor JVM saw ${FLOOR_CPUS:-?} CPU(s)); wrk, upstream, low-load client on CPU $LOAD_CPU"
    else
        echo "pinning: none (1 core)"
    fi
    echo "affinity: $AFFINITY"
    echo "modes: ${MODES[*]}; targets: ${TARGETS[*]}"
    echo "wrk -t1 --latency --timeout $WRK_TIMEOUT: $ROUNDS interleaved rounds of ${DURATION}s per target and mode; non-stream/burst -c$CONNECTIONS, paced -c$PACED_CONNECTIONS at ${PACE_MS} ms per event"
    echo "warm-up (discarded): direct and nginx ${WARMUP}s; floor and gateway before each mode ${WARMUP_SLICE}s slices, at least ${JVM_WARMUP}s, until ${WARMUP_SETTLE_SLICES} agree within ${WARMUP_SETTLE_PCT}%, at most ${JVM_WARMUP_MAX}s"
    [[ ${#WARMED[@]} -eq 0 ]] || echo "warm-up taken: $(warmed_summary)"
    echo "stream: 36 data chunks (role, $TOKENS tokens, finish, usage) + data: [DONE], one write each; request asks include_usage"
    echo "versions: $(java -version 2>&1 | head -n1); $(nginx -v 2>&1 | sed 's/^nginx version: //'); $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'); vertx-core + vertx-http-proxy 4.5.28"
    echo "gateway: $GATEWAY_JAR, -Xms$JVM_HEAP -Xmx$JVM_HEAP, production profile, client key on ${GATEWAY_JAVA_OPTS:+, extra: $GATEWAY_JAVA_OPTS}"
    echo "nginx: 1 worker, proxy_buffering off, HTTP/1.1 keep-alive pool (keepalive 1024); floor ($FLOOR_KIND): $FLOOR_DESC, -Xmx$JVM_HEAP"
    echo "upstream writes: ${WRITES_PROOF:-not verified (BENCH_VERIFY_WRITES=0)}"
}

jstr() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    printf '"%s"' "$s"
}
jnum() { [[ $1 =~ ^[+-]?[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "${1#+}" || printf 'null'; }

print_json() {
    local mode target key sep="" row v desc val cmp thr
    printf '{\n  "date": %s, "commit": %s,\n' "$(jstr "$STARTED_AT")" "$(jstr "$COMMIT")"
    printf '  "settings": {"duration_s": %s, "rounds": %s, "connections": %s, "paced_connections": %s, "pace_ms": %s, "warmup_s": %s, "jvm_warmup_min_s": %s, "jvm_warmup_max_s": %s, "warmup_slice_s": %s, "warmup_settle_pct": %s, "warmup_settle_slices": %s, "lowload_requests": %s, "lowload_warmup": %s, "cores": %s, "proxy_cpu": %s, "load_cpu": %s, "jvm_heap": %s, "modes": %s, "targets": %s, "gateway_jar": %s, "gateway_java_opts": %s, "java": %s, "nginx": %s, "wrk": %s, "vertx": "4.5.28", "floor": %s, "busy_before_pct": %s, "warm_up_taken": %s, "affinity": %s, "upstream_writes": %s},\n' \
        "$DURATION" "$ROUNDS" "$CONNECTIONS" "$PACED_CONNECTIONS" "$PACE_MS" "$WARMUP" "$JVM_WARMUP" "$JVM_WARMUP_MAX" "$WARMUP_SLICE" "$WARMUP_SETTLE_PCT" "$WARMUP_SETTLE_SLICES" "$LOWLOAD_REQUESTS" "$LOWLOAD_WARMUP" \
        "$CORES" "$(jnum "$PROXY_CPU")" "$(jnum "$LOAD_CPU")" "$(jstr "$JVM_HEAP")" "$(jstr "${MODES[*]}")" "$(jstr "${TARGETS[*]}")" \
        "$(jstr "$GATEWAY_JAR")" "$(jstr "${GATEWAY_JAVA_OPTS:-}")" "$(jstr "$(java -version 2>&1 | head -n1)")" \
        "$(jstr "$(nginx -v 2>&1)")" "$(jstr "$(wrk -v 2>&1 | head -n1)")" "$(jstr "$FLOOR_KIND")" "$QUIET_PCT" "$(jstr "$(warmed_summary)")" "$(jstr "$AFFINITY")" "$(jstr "${WRITES_PROOF:-}")"
    printf '  "results": ['
    for mode in "${WRK_MODES[@]}"; do
        for target in "${TARGETS[@]}"; do
            key="$mode/$target"
            has "$key" || continue
            printf '%s\n    {"mode": "%s", "target": "%s", "rps": %s, "rps_by_round": [%s], "p50_ms": %s, "p99_ms": %s, "requests": %s, "non_2xx": %s, "socket_errors": %s, "proxy_cpu_us_per_req": %s, "proxy_cpu_pct": %s, "proxy_rss_mib": %s, "upstream_cpu_pct": %s, "wrk_cpu_pct": %s, "other_cpu_pct": %s, "other_cpu_proxy_core_pct": %s, "irq_softirq_steal_pct": %s, "disturbed": %s}' \
                "$sep" "$mode" "$target" "$(jnum "${RPS[$key]}")" "$(tr ' ' ',' <<<"${ROUND_RPS[$key]:-}")" "$(jnum "${P50[$key]}")" "$(jnum "${P99[$key]}")" "${REQS[$key]}" \
                "${NON2XX[$key]}" "${SOCKERR[$key]}" "$(jnum "${US_PER_REQ[$key]}")" "$(jnum "${CPU_PROXY[$key]}")" \
                "$(jnum "${RSS[$key]}")" "${CPU_UPSTREAM[$key]}" "${CPU_WRK[$key]}" "${CPU_OTHER[$key]}" \
                "$(jnum "${CPU_OTHER0[$key]}")" "${CPU_IRQ[$key]}" "$([[ ${DISTURBED_KEY[$key]} == 1 ]] && echo true || echo false)"
            sep=,
        done
    done
    printf '\n  ],\n  "lowload": ['
    sep=""
    for target in "${TARGETS[@]}"; do
        [[ -n ${LL_JSON_P50[$target]:-} ]] || continue
        printf '%s\n    {"target": "%s", "non_stream_p50_ms": %s, "non_stream_p99_ms": %s, "ttft_p50_ms": %s, "ttft_p99_ms": %s, "stream_end_p50_ms": %s, "disturbed": %s}' \
            "$sep" "$target" "$(jnum "${LL_JSON_P50[$target]}")" "$(jnum "${LL_JSON_P99[$target]}")" "$(jnum "${LL_TTFT_P50[$target]}")" \
            "$(jnum "${LL_TTFT_P99[$target]}")" "$(jnum "${LL_STREAM_P50[$target]}")" \
            "$([[ ${DISTURBED_KEY[lowload/$target]} == 1 ]] && echo true || echo false)"
        sep=,
    done
    printf '\n  ],\n  "gateway": {"start_to_first_answer_ms": %s, "rss_idle_mib": %s, "floor_start_to_first_answer_ms": %s},\n' \
        "$(jnum "${GATEWAY_START_MS:-}")" "$(jnum "${GATEWAY_RSS_IDLE:-}")" "$(jnum "${FLOOR_START_MS:-}")"
    printf '  "targets": ['
    sep=""
    for row in "${TARGET_ROWS[@]}"; do
        IFS='|' read -r v desc val cmp thr <<<"$row"
        printf '%s\n    {"verdict": %s, "what": %s, "value": %s, "comparison": "%s", "threshold": %s}' "$sep" "$(jstr "${v% }")" \
            "$(jstr "$desc")" "$(jnum "$val")" "$cmp" "$thr"
        sep=,
    done
    printf '\n  ],\n  "disturbed": ['
    sep=""
    for row in "${DISTURBED[@]}"; do printf '%s%s' "$sep" "$(jstr "$row")"; sep=", "; done
    printf '],\n  "failures": ['
    sep=""
    for row in "${FAILURES[@]}"; do printf '%s%s' "$sep" "$(jstr "$row")"; sep=", "; done
    printf ']\n}\n'
}
