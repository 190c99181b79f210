# shellcheck shell=bash
# bench/lib/routing-report.sh: bench/routing.sh's tables, target lines and results files (.txt and .json).

ran() { [[ ${ROW_STATUS[$1]:-} == ok ]]; }

# split_pct "<r1> <r2> <r3>": each replica's share of the upstream requests, "34/33/33".
split_pct() {
    awk -v s="$1" 'BEGIN {
        n = split(s, x, " "); t = 0
        for (i = 1; i <= n; i++) { if (x[i] == "n/a") { printf "n/a"; exit } t += x[i] }
        for (i = 1; i <= n; i++) printf "%s%.0f", (i > 1 ? "/" : ""), (t > 0 ? x[i] / t * 100 : 0) }'
}

print_variant_table() {
    local variant=$1 front key hedges
    echo "$variant: $(variant_desc "$variant")"
    printf '  %-24s %8s %6s %9s %9s %9s %9s %9s %6s %8s %11s %14s %7s %6s %s\n' front requests errors "TTFT p50" "p90" "p99" \
        "e2e p50" "out tok/s" "hit %" "extra %" "split %" "hedges st/won" "front%" "load%" disturbed
    for front in $(variant_fronts "$variant"); do
        in_list "$front" "${FRONTS[@]}" || continue
        key="$variant/$front"
        if ! ran "$key"; then
            printf '  %-24s FAILED (see the errors below)\n' "$front"
            continue
        fi
        hedges=n/a
        [[ ${ROW_HEDGES[$key]} == n/a ]] || hedges=$(awk '{ printf "%d/%d", $1, $2 }' <<<"${ROW_HEDGES[$key]}")
        [[ $front == gateway-* ]] || hedges=-
        printf '  %-24s %8s %6s %9.0f %9.0f %9.0f %9.0f %9.1f %6s %8s %11s %14s %7s %6s %s\n' "$front" "${ROW_REQ[$key]}" \
            "${ROW_ERR[$key]}" "${ROW_T50[$key]}" "${ROW_T90[$key]}" "${ROW_T99[$key]}" "${ROW_E50[$key]}" "${ROW_TOKS[$key]}" \
            "${ROW_HIT[$key]}" "${ROW_EXTRA[$key]}" "$(split_pct "${ROW_SPLIT[$key]}")" "$hedges" "${ROW_FRONT_CPU[$key]}" \
            "${ROW_LOAD_CPU[$key]}" "$([[ ${ROW_DISTURBED[$key]} == 1 ]] && echo yes || echo no)"
    done
    for front in $(variant_fronts "$variant"); do
        key="$variant/$front"
        ran "$key" && [[ ${ROW_ERR[$key]} != 0 ]] && echo "  errors of $front by kind: ${ROW_ERR_KINDS[$key]//,/, }"
    done
    return 0
}

# check_line <n> <verdict> <text>: one target line, kept for the JSON.
check_line() {
    TARGET_ROWS+=("$1|$2|$3")
    printf '  %-4s (%s) %s\n' "$2" "$1" "$3"
}

# The verdict of an awk condition over the given numbers (v1, v2, ...); n/a when any of them is missing.
judge() {
    local cond=$1 i
    shift
    for i in "$@"; do [[ -n $i && $i != n/a ]] || { echo n/a; return; }; done
    awk -v a="${1:-}" -v b="${2:-}" -v c="${3:-}" -v d="${4:-}" -v e="${5:-}" -v f="${6:-}" \
        "BEGIN { print (($cond) ? \"PASS\" : \"MISS\") }"
}

# field <array> <key>: the row's value, or n/a when the run did not happen or failed.
field() {
    local -n arr=$1
    if ran "$2"; then echo "${arr[$2]}"; else echo n/a; fi
}

print_targets() {
    local gw rr lc sh nh v t
    TARGET_ROWS=()
    echo "Targets:"
    gw=$(field ROW_T50 equal/gateway-default) rr=$(field ROW_T50 equal/nginx-rr) sh=$(field ROW_T50 equal/nginx-session-hash)
    v=$(judge "a <= 0.4 * b" "$gw" "$rr")
    check_line 1 "$v" "equal: gateway-default TTFT p50 <= 0.4 x nginx-rr's: $gw vs $rr ms$([[ $v == n/a ]] || awk -v a="$gw" -v b="$rr" 'BEGIN { if (b > 0) printf " = %.2fx", a / b }')"
    v=$(judge "a <= b" "$gw" "$sh")
    check_line 2 "$v" "equal: gateway-default TTFT p50 <= nginx-session-hash's: $gw vs $sh ms"
    gw=$(field ROW_T99 equal/gateway-default) rr=$(field ROW_T99 equal/nginx-rr) lc=$(field ROW_T99 equal/nginx-least-conn)
    sh=$(field ROW_T99 equal/nginx-session-hash)
    v=$(judge "a <= b && a <= c && a <= d" "$gw" "$rr" "$lc" "$sh")
    check_line 3 "$v" "equal: gateway-default TTFT p99 <= min of the nginx fronts': $gw vs rr $rr, least-conn $lc, session-hash $sh ms"
    gw=$(field ROW_TOKS equal/gateway-default) rr=$(field ROW_TOKS equal/nginx-rr) lc=$(field ROW_TOKS equal/nginx-least-conn)
    sh=$(field ROW_TOKS equal/nginx-session-hash)
    v=$(judge "a >= b && a >= c && a >= d" "$gw" "$rr" "$lc" "$sh")
    check_line 4 "$v" "equal: gateway-default output tok/s >= max of the nginx fronts': $gw vs rr $rr, least-conn $lc, session-hash $sh"
    gw=$(field ROW_ERR equal/gateway-default)
    v=$(judge "a == 0" "$gw")
    check_line 5 "$v" "equal: gateway-default errors == 0: $gw$([[ $gw == n/a || $gw == 0 ]] || echo " (${ROW_ERR_KINDS[equal/gateway-default]//,/, })")"
    local g50 g99 gt l50 l99 lt
    g50=$(field ROW_T50 slow/gateway-default) g99=$(field ROW_T99 slow/gateway-default) gt=$(field ROW_TOKS slow/gateway-default)
    l50=$(field ROW_T50 slow/nginx-least-conn) l99=$(field ROW_T99 slow/nginx-least-conn) lt=$(field ROW_TOKS slow/nginx-least-conn)
    v=$(judge "a < b && c < d && e > f" "$g50" "$l50" "$g99" "$l99" "$gt" "$lt")
    check_line 6 "$v" "slow: gateway-default ahead of nginx-least-conn: TTFT p50 $g50 vs $l50 ms, p99 $g99 vs $l99 ms, output tok/s $gt vs $lt"
    gw=$(field ROW_T99 stall/gateway-default) nh=$(field ROW_T99 stall/gateway-default-nohedge)
    v=$(judge "a <= 0.5 * b" "$gw" "$nh")
    check_line 7 "$v" "stall: gateway-default TTFT p99 <= 0.5 x gateway-default-nohedge's: $gw vs $nh ms$([[ $v == n/a ]] || awk -v a="$gw" -v b="$nh" 'BEGIN { if (b > 0) printf " = %.2fx", a / b }')"
    t=$(field ROW_EXTRA stall/gateway-default)
    v=$(judge "a <= 10" "$t")
    check_line 8 "$v" "stall: gateway-default extra upstream requests <= 10 %: $t %$(ran stall/gateway-default && echo " (${ROW_UPSTREAM[stall/gateway-default]} upstream for ${ROW_REQ[stall/gateway-default]} client requests)")"
}

routing_settings_lines() {
    echo "machine: $CORES cores ($(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(uname -sr); before start ${QUIET_PCT}% of a core busy"
    if [[ -n $PROXY_CPU ]]; then
        echo "pinning: fronts (nginx, gateway) on CPU $PROXY_CPU; simulator and workload driver on CPU $LOAD_CPU (taskset at launch)"
    else
        echo "pinning: none (1 core)"
    fi
    echo "variants: ${VARIANTS[*]}; fronts: ${FRONTS[*]}"
    echo "workload (bench.AgenticLoad): $SESSIONS sessions, ${DURATION} s of turns (+ up to ${DRIVER_GRACE} s for those in flight), seed $SEED; shared prefix ~$SYSTEM_TOKENS tokens (system prompt + 16 tools); task 100-300, tool results $RESULT_MIN-$RESULT_MAX, answers $OUT_MIN-$OUT_MAX tokens (ignore_eos); think $THINK_MIN_MS-$THINK_MAX_MS ms; a session ends at $MAX_MODEL_LEN tokens"
    echo "simulator: $SIMULATOR_CLASS, a fresh process per front (cold caches): --replicas $REPLICAS --model $ROUTING_MODEL --max-model-len $MAX_MODEL_LEN --seed $SEED${KV_BLOCKS:+ --kv-blocks $KV_BLOCKS}${MAX_NUM_SEQS:+ --max-num-seqs $MAX_NUM_SEQS}${MAX_NUM_BATCHED_TOKENS:+ --max-num-batched-tokens $MAX_NUM_BATCHED_TOKENS}; speeds and stalls per variant"
    echo "gateway: $GATEWAY_JAR, production profile, GATEWAY_AUTH=none, -Xmx$JVM_HEAP, route chat = r1,r2,r3 (the replicas)${GATEWAY_JAVA_OPTS:+, extra: $GATEWAY_JAVA_OPTS}"
    echo "nginx: 1 worker, proxy_buffering off, HTTP/1.1 keep-alive upstream (keepalive 64), timeouts 600 s; rr: round-robin, least-conn: least_conn, session-hash: hash \$http_x_session_id consistent"
    echo "versions: $(java -version 2>&1 | head -n1); $(nginx -v 2>&1 | sed 's/^nginx version: //')"
}

print_routing_report() {
    local variant
    echo "Routing benchmark $STARTED_AT, commit $COMMIT"
    routing_settings_lines | sed 's/^/  /'
    echo
    for variant in "${VARIANTS[@]}"; do
        print_variant_table "$variant"
        echo
    done
    echo "  TTFT and e2e in ms (client side: request sent to first content token / to the end); out tok/s = output tokens"
    echo "  over the driver's wall time; hit % = prefix-cache hits / queries over the replicas; extra % = upstream requests"
    echo "  (simulator_requests_received_total) / client requests - 1; split % = each replica's share of the upstream requests"
    echo "  (r1/r2/r3; in slow, r3 is the slow one); hedges = gateway_hedges_total started/won; front% = the front's CPU"
    echo "  (share of one core), load% = simulator + driver on the load core (near 100: the load core limited the run)."
    echo
    print_targets
    echo
    print_disturbed_and_errors "TTFT and throughput may be off" "run"
}

print_routing_json() {
    local variant front key sep="" row n v text
    printf '{\n  "date": %s, "commit": %s,\n' "$(jstr "$STARTED_AT")" "$(jstr "$COMMIT")"
    printf '  "machine": {"cores": %s, "cpu": %s, "kernel": %s, "busy_before_pct": %s, "java": %s, "nginx": %s},\n' \
        "$CORES" "$(jstr "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')")" "$(jstr "$(uname -sr)")" \
        "$QUIET_PCT" "$(jstr "$(java -version 2>&1 | head -n1)")" "$(jstr "$(nginx -v 2>&1)")"
    printf '  "settings": {"duration_s": %s, "sessions": %s, "seed": %s, "max_model_len": %s, "kv_blocks": %s, "max_num_seqs": %s, "max_num_batched_tokens": %s, "system_tokens": %s, "result_min": %s, "result_max": %s, "out_min": %s, "out_max": %s, "think_min_ms": %s, "think_max_ms": %s, "grace_s": %s, "variants": %s, "fronts": %s, "proxy_cpu": %s, "load_cpu": %s, "jvm_heap": %s, "gateway_jar": %s, "gateway_java_opts": %s, "simulator_classpath": %s, "model": %s},\n' \
        "$DURATION" "$SESSIONS" "$SEED" "$MAX_MODEL_LEN" "$(jnum "$KV_BLOCKS")" "$(jnum "$MAX_NUM_SEQS")" "$(jnum "$MAX_NUM_BATCHED_TOKENS")" \
        "$SYSTEM_TOKENS" "$RESULT_MIN" "$RESULT_MAX" "$OUT_MIN" "$OUT_MAX" "$THINK_MIN_MS" "$THINK_MAX_MS" "$DRIVER_GRACE" \
        "$(jstr "${VARIANTS[*]}")" "$(jstr "${FRONTS[*]}")" "$(jnum "$PROXY_CPU")" "$(jnum "$LOAD_CPU")" "$(jstr "$JVM_HEAP")" \
        "$(jstr "$GATEWAY_JAR")" "$(jstr "${GATEWAY_JAVA_OPTS:-}")" "$(jstr "$SIM_CP")" "$(jstr "$ROUTING_MODEL")"
    printf '  "runs": ['
    for variant in "${VARIANTS[@]}"; do
        for front in $(variant_fronts "$variant"); do
            in_list "$front" "${FRONTS[@]}" || continue
            key="$variant/$front"
            printf '%s\n    {"variant": "%s", "front": "%s", "status": "%s"' "$sep" "$variant" "$front" "${ROW_STATUS[$key]:-not run}"
            sep=,
            printf ', "simulator_args": %s' "$(jstr "${ROW_SIM_ARGS[$key]:-}")"
            [[ $front != gateway-* ]] || printf ', "gateway_props": %s' "$(jstr "${ROW_GATEWAY_PROPS[$key]:-}")"
            if ran "$key"; then
                printf ', "ready_ms": %s, "affinity": %s,\n      "prefix_cache_queries": %s, "prefix_cache_hits": %s, "prefix_cache_hit_pct": %s, "upstream_requests": %s, "upstream_by_replica": [%s], "extra_upstream_pct": %s' \
                    "${ROW_READY_MS[$key]}" "$(jstr "${AFFINITY_BY_KEY[$key]}")" "$(jnum "${ROW_QUERIES[$key]}")" "$(jnum "${ROW_HITS[$key]}")" \
                    "$(jnum "${ROW_HIT[$key]}")" "$(jnum "${ROW_UPSTREAM[$key]}")" "$(tr ' ' '\n' <<<"${ROW_SPLIT[$key]}" | while read -r n; do jnum "$n"; echo; done | paste -sd, -)" \
                    "$(jnum "${ROW_EXTRA[$key]}")"
                if [[ ${ROW_HEDGES[$key]} == n/a ]]; then
                    printf ', "hedges": null'
                else
                    read -r -a h <<<"${ROW_HEDGES[$key]}"
                    printf ', "hedges": {"started": %s, "won": %s, "cancelled": %s}' "${h[0]}" "${h[1]}" "${h[2]}"
                fi
                printf ', "front_cpu_pct": %s, "load_cpu_pct": %s, "disturbed": %s,\n      "client": %s' "${ROW_FRONT_CPU[$key]}" "${ROW_LOAD_CPU[$key]}" \
                    "$([[ ${ROW_DISTURBED[$key]} == 1 ]] && echo true || echo false)" "$(tr -s ' \n' ' ' <"${ROW_DRIVER_JSON[$key]}")"
            fi
            printf '}'
        done
    done
    printf '\n  ],\n  "targets": ['
    sep=""
    for row in "${TARGET_ROWS[@]}"; do
        IFS='|' read -r n v text <<<"$row"
        printf '%s\n    {"id": %s, "verdict": %s, "line": %s}' "$sep" "$n" "$(jstr "$v")" "$(jstr "$text")"
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
