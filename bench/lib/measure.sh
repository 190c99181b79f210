# shellcheck shell=bash
# bench/lib/measure.sh: wrk runs (non-stream, burst, paced) and the low-load client, with CPU and RSS accounting.

proxy_pids_of() {
    case $1 in
        nginx) echo "$NGINX_PIDS" ;;
        floor) echo "$FLOOR_PID" ;;
        gateway) echo "$GATEWAY_PID" ;;
        *) echo "" ;;
    esac
}
is_jvm() { [[ $1 == floor || $1 == gateway ]]; }

# Says which of our servers is gone, how it ended and what it logged.
report_dead_servers() {
    local name pid logfile status
    for name in upstream nginx floor gateway; do
        case $name in
            upstream) pid=${UPSTREAM_PID:-} logfile=$WORK_DIR/upstream.log ;;
            nginx) pid=${NGINX_PID:-} logfile=$WORK_DIR/nginx/error.log ;;
            floor) pid=${FLOOR_PID:-} logfile=$WORK_DIR/floor.log ;;
            gateway) pid=${GATEWAY_PID:-} logfile=$WORK_DIR/gateway.log ;;
        esac
        [[ -n $pid ]] || continue
        kill -0 "$pid" 2>/dev/null && continue
        status=0
        wait "$pid" 2>/dev/null || status=$?
        log "$name (pid $pid) is no longer running (exit status $status); the end of $logfile:"
        show_log "$logfile"
    done
}

# start_wrk <out> <seconds> <connections> <target> <shape>: wrk in the background on the load CPU (WRK_PID);
# finish_wrk waits for it. The timeout only guards against a wrk that never ends.
start_wrk() {
    timeout $(($2 + 60)) "${PIN_LOAD[@]}" wrk --latency -t1 -c"$3" -d"$2s" --timeout "$WRK_TIMEOUT" \
        -s "$(lua_file "$4" "$5")" "$(url_for "$4" "$5")" >"$1" 2>&1 &
    WRK_PID=$!
}
finish_wrk() { # finish_wrk <out> <label>
    local rc=0
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    if ((rc != 0)) || ! grep -q '^Requests/sec:' "$1"; then
        cat "$1" >&2
        report_dead_servers
        die "wrk failed ($2), exit code $rc"
    fi
}

# Reads a wrk --latency report: prints "rps p50_ms p99_ms requests non2xx socket_errors".
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return v * 0.001
            if (v ~ /ms$/) return v * 1
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            return v * 1
        }
        /^Requests\/sec:/ { rps = $2 }
        /requests in/ { reqs = $1 }
        /^ +50% / { p50 = ms($2) }
        /^ +99% / { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { gsub(/,/, ""); sockerr = $4 + $6 + $8 + $10 }
        END { printf "%s %.3f %.3f %d %d %d\n", rps, p50, p99, reqs, non2xx, sockerr }
    ' "$1"
}

# warm_up <target> <shape> <seconds> <connections>: load whose numbers are thrown away. direct and nginx: one wrk run.
# JVM targets: wrk runs of WARMUP_SLICE s until at least <seconds> have passed and the last WARMUP_SETTLE_SLICES
# slices' req/s lie within WARMUP_SETTLE_PCT of their highest (the JIT has settled: on one core a large JVM needs about
# a minute, and a fixed 20 s measured the gateway while C2 was still compiling it; two slices alone were fooled by a
# plateau the JIT later left), but no longer than JVM_WARMUP_MAX s in all. The time it
# took is appended to WARMED[<target>/<shape>] and goes into the report.
warm_up() {
    local out="$WORK_DIR/warmup-$1-$2.txt" rps p50 p99 reqs non2xx sockerr spent=0 slice settled=no
    local -a recent=()
    (($3 > 0)) || return 0
    if ! is_jvm "$1"; then
        log "$2 $1: warm-up $3 s (discarded)"
        start_wrk "$out" "$3" "$4" "$1" "$2"
        finish_wrk "$out" "warm-up $1 $2"
        read -r rps p50 p99 reqs non2xx sockerr < <(parse_wrk "$out")
        log "$2 $1: warm-up gave $rps req/s${non2xx:+, $non2xx non-2xx}, $sockerr socket errors"
        return 0
    fi
    log "$2 $1: warm-up (discarded) in ${WARMUP_SLICE} s slices, at least $3 s, until $WARMUP_SETTLE_SLICES slices agree within ${WARMUP_SETTLE_PCT}%, at most ${JVM_WARMUP_MAX} s"
    while ((spent < JVM_WARMUP_MAX)); do
        slice=$WARMUP_SLICE
        ((spent + slice <= JVM_WARMUP_MAX)) || slice=$((JVM_WARMUP_MAX - spent))
        start_wrk "$out" "$slice" "$4" "$1" "$2"
        finish_wrk "$out" "warm-up $1 $2"
        spent=$((spent + slice))
        read -r rps p50 p99 reqs non2xx sockerr < <(parse_wrk "$out")
        log "$2 $1: warm-up ${spent} s: $rps req/s${non2xx:+, $non2xx non-2xx}, $sockerr socket errors"
        recent+=("$rps")
        ((${#recent[@]} <= WARMUP_SETTLE_SLICES)) || recent=("${recent[@]:1}")
        if ((spent >= $3 && ${#recent[@]} == WARMUP_SETTLE_SLICES)) \
            && printf '%s\n' "${recent[@]}" | awk -v pct="$WARMUP_SETTLE_PCT" '
                NR == 1 { lo = $1; hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
                END { exit !(hi > 0 && (hi - lo) / hi * 100 <= pct) }'; then
            settled=yes
            break
        fi
    done
    # Appended: lowload warms the json and burst shapes again after their own modes did.
    WARMED["$1/$2"]+="${WARMED["$1/$2"]:+ + }${spent}s"
    if [[ $settled != yes ]]; then
        WARMED["$1/$2"]+=" (not settled)"
        log "$2 $1: still changing after ${spent} s of warm-up; measuring anyway"
    fi
}

# measure_mode <mode>: every target is warmed up for the mode (JVMs: JVM_WARMUP until settled, others: WARMUP), then
# measured in ROUNDS interleaved rounds: each round runs every target for DURATION s in turn, starting one target
# later each round. On a shared VM the machine's speed drifts by tens of percent over minutes; measured back to back,
# a target that happened to run in a slow minute looked slow. Interleaved, the targets share the drift, and the
# per-round ratios show how much of a difference is noise.
measure_mode() {
    local mode=$1 shape conns target warm round i n=${#TARGETS[@]}
    shape=$(shape_of "$mode")
    [[ $mode == paced ]] && conns=$PACED_CONNECTIONS || conns=$CONNECTIONS
    for target in "${TARGETS[@]}"; do
        is_jvm "$target" && warm=$JVM_WARMUP || warm=$WARMUP
        warm_up "$target" "$shape" "$warm" "$conns"
    done
    for ((round = 1; round <= ROUNDS; round++)); do
        for ((i = 0; i < n; i++)); do
            target=${TARGETS[(i + round - 1) % n]}
            measure_slice "$mode" "$target" "$shape" "$conns" "$round"
        done
    done
    for target in "${TARGETS[@]}"; do summarize_rounds "$mode" "$target"; done
}

# measure_slice <mode> <target> <shape> <connections> <round>: one measured wrk run, with the proxy's CPU (utime +
# stime from /proc/<pid>/stat over the window) and, in the first round, its RSS sampled half-way. Adds to the mode's
# totals for the target (ACC_*).
measure_slice() {
    local mode=$1 target=$2 shape=$3 conns=$4 round=$5 key="$1/$2" out pids rps p50 p99 reqs non2xx sockerr
    pids=$(proxy_pids_of "$target")
    log "$mode $target: measuring round $round of $ROUNDS, ${DURATION}s, $conns connections"
    out="$WORK_DIR/wrk-$target-$mode-$round.txt"
    window_begin "$pids"
    start_wrk "$out" "$DURATION" "$conns" "$target" "$shape"
    sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')"
    if ((round == 1)); then
        # shellcheck disable=SC2086
        [[ -n $pids ]] && RSS[$key]=$(rss_mib $pids) || RSS[$key]=-
    fi
    finish_wrk "$out" "$target $mode round $round"
    window_end "$pids"

    read -r rps p50 p99 reqs non2xx sockerr < <(parse_wrk "$out")
    ROUND_RPS[$key]+="${ROUND_RPS[$key]:+ }$rps"
    ROUND_P50[$key]+="${ROUND_P50[$key]:+ }$p50"
    ROUND_P99[$key]+="${ROUND_P99[$key]:+ }$p99"
    ACC_REQS[$key]=$((${ACC_REQS[$key]:-0} + reqs))
    ACC_NON2XX[$key]=$((${ACC_NON2XX[$key]:-0} + non2xx))
    ACC_SOCKERR[$key]=$((${ACC_SOCKERR[$key]:-0} + sockerr))
    ACC_TICKS[$key]=$((${ACC_TICKS[$key]:-0} + W_PROXY_TICKS))
    # wrk's own seconds (requests / its req/s) for req/s; the window's for the CPU shares, weighted by its length.
    ACC_WRK_S[$key]=$(awk -v a="${ACC_WRK_S[$key]:-0}" -v r="$reqs" -v q="$rps" 'BEGIN { printf "%.3f", a + (q > 0 ? r / q : 0) }')
    ACC_CPU[$key]=$(awk -v acc="${ACC_CPU[$key]:-0 0 0 0 0 0}" -v e="$W_ELAPSED" -v u="$W_UPSTREAM_PCT" -v w="$W_TOOLS_PCT" \
        -v o="$W_OTHER_PCT" -v z="$W_OTHER_PROXY_CORE_PCT" -v i="$W_IRQ_PCT" 'BEGIN {
            split(acc, a, " "); if (z == "-") z = 0
            printf "%.3f %.3f %.3f %.3f %.3f %.3f", a[1] + e, a[2] + u * e, a[3] + w * e, a[4] + o * e, a[5] + z * e, a[6] + i * e }')
    if flag_disturbed "$mode $target round $round"; then DISTURBED_KEY[$key]=1; fi
    if ((non2xx + sockerr > 0)); then
        local codes
        codes=$(awk '/^status / && $2 !~ /^2/ { printf "%s%s x%s", sep, $2, $3; sep = ", " }' "$out")
        FAILURES+=("$mode $target round $round: $non2xx non-2xx responses${codes:+ ($codes)}, $sockerr socket errors")
        log "ERROR: $mode $target had $non2xx non-2xx responses and $sockerr socket errors in round $round:"
        cat "$out" >&2
    fi
    log "$mode $target round $round: $rps req/s, p50 $p50 ms, p99 $p99 ms, $(us_per_request "$W_PROXY_TICKS" "$reqs") us CPU/req"
}

# summarize_rounds <mode> <target>: the mode's numbers for the target over all its rounds: req/s = requests / wrk
# seconds, CPU us/req = CPU time / requests, p50 and p99 = the median of the rounds', CPU shares weighted by time.
summarize_rounds() {
    local key="$1/$2" pids elapsed up wr ot ot0 irq
    [[ -n ${ACC_REQS[$key]:-} ]] || return 0
    pids=$(proxy_pids_of "$2")
    REQS[$key]=${ACC_REQS[$key]} NON2XX[$key]=${ACC_NON2XX[$key]} SOCKERR[$key]=${ACC_SOCKERR[$key]}
    RPS[$key]=$(awk -v r="${ACC_REQS[$key]}" -v s="${ACC_WRK_S[$key]}" 'BEGIN { printf "%.2f", (s > 0 ? r / s : 0) }')
    P50[$key]=$(median ${ROUND_P50[$key]}) P99[$key]=$(median ${ROUND_P99[$key]})
    read -r elapsed up wr ot ot0 irq <<<"${ACC_CPU[$key]}"
    CPU_UPSTREAM[$key]=$(per_second "$up" "$elapsed") CPU_WRK[$key]=$(per_second "$wr" "$elapsed")
    CPU_OTHER[$key]=$(per_second "$ot" "$elapsed") CPU_IRQ[$key]=$(per_second "$irq" "$elapsed")
    [[ -n $PROXY_CPU ]] && CPU_OTHER0[$key]=$(per_second "$ot0" "$elapsed") || CPU_OTHER0[$key]=-
    DISTURBED_KEY[$key]=${DISTURBED_KEY[$key]:-0}
    CPU_PROXY[$key]=- US_PER_REQ[$key]=-
    if [[ -n $pids ]]; then
        CPU_PROXY[$key]=$(awk -v t="${ACC_TICKS[$key]}" -v hz="$CLK_TCK" -v e="$elapsed" 'BEGIN { printf "%.0f", (e > 0 ? t / hz / e * 100 : 0) }')
        # CPU time per completed request: what the proxy costs, whatever share of its core it got.
        US_PER_REQ[$key]=$(us_per_request "${ACC_TICKS[$key]}" "${ACC_REQS[$key]}")
    fi
    log "$1 $2: $ROUNDS rounds: ${RPS[$key]} req/s (rounds: ${ROUND_RPS[$key]}), ${US_PER_REQ[$key]} us CPU/req"
}

# us_per_request <ticks> <requests>: CPU microseconds per completed request.
us_per_request() { awk -v t="$1" -v hz="$CLK_TCK" -v r="$2" 'BEGIN { printf "%.1f", (r > 0 ? t / hz / r * 1e6 : 0) }'; }
per_second() { awk -v x="$1" -v e="$2" 'BEGIN { printf "%.0f", (e > 0 ? x / e : 0) }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

flag_disturbed_key() { if flag_disturbed "$1"; then DISTURBED_KEY[$2]=1; else DISTURBED_KEY[$2]=0; fi; }

# measure_lowload <target>: one connection, sequential requests (LowLoad client on the load CPU): p50/p99 of the
# whole non-stream answer, and of the time to first token of a burst stream. JVM targets get a wrk warm-up first.
measure_lowload() {
    local target=$1 key="lowload/$1" out line
    if is_jvm "$target"; then
        warm_up "$target" json $((JVM_WARMUP / 2)) "$CONNECTIONS"
        warm_up "$target" burst $((JVM_WARMUP - JVM_WARMUP / 2)) "$CONNECTIONS"
    fi
    log "lowload $target: $LOWLOAD_REQUESTS sequential requests per shape (after $LOWLOAD_WARMUP discarded), 1 connection"
    window_begin "$(proxy_pids_of "$target")"
    for shape in json burst; do
        out="$WORK_DIR/lowload-$target-$shape.txt"
        if ! "${PIN_LOAD[@]}" java -XX:+UseSerialGC -Xmx128m -cp "$HELPER_JAR" bench.LowLoad "$(port_of "$target")" \
            "$(path_of "$target" "$shape")" "$(request_file "$target" "$shape")" \
            "$([[ $shape == json ]] && echo json || echo stream)" "$LOWLOAD_REQUESTS" "$LOWLOAD_WARMUP" \
            "Bearer $CLIENT_KEY" >"$out" 2>&1; then
            FAILURES+=("lowload $target $shape: $(tail -n 2 "$out" | tr '\n' ' ')")
            log "ERROR: lowload $target $shape: $(cat "$out")"
        fi
        line=$(grep '^first_p50_ms=' "$out" || echo "first_p50_ms=0 first_p99_ms=0 total_p50_ms=0 total_p99_ms=0")
        local first_p50 first_p99 total_p50 total_p99
        first_p50=$(sed 's/.*first_p50_ms=\([0-9.]*\).*/\1/' <<<"$line")
        first_p99=$(sed 's/.*first_p99_ms=\([0-9.]*\).*/\1/' <<<"$line")
        total_p50=$(sed 's/.*total_p50_ms=\([0-9.]*\).*/\1/' <<<"$line")
        total_p99=$(sed 's/.*total_p99_ms=\([0-9.]*\).*/\1/' <<<"$line")
        if [[ $shape == json ]]; then
            LL_JSON_P50[$target]=$total_p50 LL_JSON_P99[$target]=$total_p99
        else
            LL_TTFT_P50[$target]=$first_p50 LL_TTFT_P99[$target]=$first_p99 LL_STREAM_P50[$target]=$total_p50
        fi
    done
    window_end "$(proxy_pids_of "$target")"
    flag_disturbed_key "lowload $target" "$key"
    log "lowload $target: non-stream p50 ${LL_JSON_P50[$target]} ms (p99 ${LL_JSON_P99[$target]}), TTFT p50 ${LL_TTFT_P50[$target]} ms (p99 ${LL_TTFT_P99[$target]})"
}
