#!/usr/bin/env bash
# Fault soak: the packaged gateway under a bounded load while its backends misbehave. A benchmark run by hand, not a
# test (CI does not run it). How to use:
#
#   ./mvnw -B -q package -DskipTests        # once (the script builds the jar when it is missing, never when stale)
#   bench/soak.sh                           # 10 minutes; SOAK_MINUTES=2 bench/soak.sh for a short run
#
# It starts, on loopback only, three fake vLLM backends (bench/soak/FakeVllm.java) and the gateway
# (target/quarkus-app/quarkus-run.jar, production profile, GATEWAY_AUTH=none, its ledger in a temp dir, short clocks
# so that hangs resolve within seconds), then the driver (bench/soak/SoakDriver.java: SOAK_CLIENTS concurrent
# clients, stream and non-stream, a share of the streams abandoned mid-stream on purpose) for SOAK_MINUTES, while
# every 10-20 s each backend is flipped between healthy, hanging, 503, dropping mid-stream, stalling mid-stream,
# failing its health checks and refusing connections (at least one stays healthy). Then it checks and prints:
#   1. requests sent = requests ended, none hung past the driver's hard timeout (longer than every gateway clock);
#   2. no stream ended without data: [DONE] (an error event may precede it), no malformed answer, no I/O error;
#   3. exactly one ledger line per request sent (abandoned requests included: the gateway records them as cancelled);
#   4. connections from the gateway to the backends return to zero after the load (ss -tn, after a pause), and no
#      backend still has a completion in flight;
#   5. heap after a full GC (jcmd GC.run, GC.heap_info) and RSS at start, middle and end, growth within
#      SOAK_HEAP_GROWTH_MB / SOAK_RSS_GROWTH_MB;
#   6. no ERROR line in the gateway's log.
# Exit code 1 when any check fails. Needs a JDK 17+ (java, jcmd), curl and ss (iproute2).
#
# Settings (environment):
#   SOAK_MINUTES (10)  SOAK_CLIENTS (48)  SOAK_DISCONNECT_SHARE (0.1 of streams)  SOAK_HARD_TIMEOUT_S (60)
#   SOAK_HEAP_GROWTH_MB (32)  SOAK_RSS_GROWTH_MB (128)  SOAK_SETTLE_S (15)  SOAK_KEEP_TMP (0: 1 keeps the temp dir)
#   GATEWAY_JAR (target/quarkus-app/quarkus-run.jar)  GATEWAY_HEAP (512m)  GATEWAY_JAVA_OPTS (extra, applied last)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

MINUTES=${SOAK_MINUTES:-10}
CLIENTS=${SOAK_CLIENTS:-48}
DISCONNECT_SHARE=${SOAK_DISCONNECT_SHARE:-0.1}
HARD_TIMEOUT_S=${SOAK_HARD_TIMEOUT_S:-60}
HEAP_GROWTH_MB=${SOAK_HEAP_GROWTH_MB:-32}
RSS_GROWTH_MB=${SOAK_RSS_GROWTH_MB:-128}
SETTLE_S=${SOAK_SETTLE_S:-15}
KEEP_TMP=${SOAK_KEEP_TMP:-0}
GATEWAY_JAR=${GATEWAY_JAR:-$REPO/target/quarkus-app/quarkus-run.jar}
GATEWAY_HEAP=${GATEWAY_HEAP:-512m}
MODES=(healthy healthy healthy healthy hang error503 drop stall health-fail refuse)
# The gateway's clocks for the soak: every fault resolves within seconds. The driver's hard timeout must stay above
# the worst case: 3 backends x 2 tries x first-token (3 s) before the commit point, then idle (2 s) or total (20 s).
CLOCKS=(
    -Dgateway.defaults.clocks.connect=1s
    -Dgateway.defaults.clocks.first-token=3s
    -Dgateway.defaults.clocks.idle=2s
    -Dgateway.defaults.clocks.total=20s
    -Dgateway.defaults.tries=2
    -Dgateway.defaults.retry-delay=100ms
    -Dgateway.keep-alive-interval=1s
    -Dgateway.health.interval=1s
    -Dgateway.health.timeout=500ms
    -Dgateway.health.failures-to-down=2
    -Dgateway.health.successes-to-up=2
    -Dgateway.breaker.delay=3s
)

log() { printf '[soak] %s\n' "$*"; }
die() { printf '[soak] ERROR: %s\n' "$*" >&2; exit 1; }

PIDS=()
FLIPPER_PID=""
DRIVER_PID=""
WORK=""
cleanup() {
    local pid
    [[ -n $FLIPPER_PID ]] && kill "$FLIPPER_PID" 2>/dev/null || true
    [[ -n $DRIVER_PID ]] && kill "$DRIVER_PID" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [[ -n $WORK ]]; then
        if [[ $KEEP_TMP == 1 ]]; then
            log "kept $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
}

free_ports() {
    local n=$1 ports=() p
    while ((${#ports[@]} < n)); do
        p=$((20000 + RANDOM % 40000))
        [[ " ${ports[*]} " == *" $p "* ]] && continue
        [[ -z $(ss -Htan "sport = :$p") ]] && ports+=("$p")
    done
    echo "${ports[*]}"
}

wait_for() { # url seconds pid logfile
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        curl -fs -o /dev/null --max-time 2 "$1" && return 0
        kill -0 "$3" 2>/dev/null || { tail -n 40 "$4" >&2; die "process $3 died (log $4)"; }
        sleep 0.3
    done
    tail -n 40 "$4" >&2
    die "$1 did not answer within $2 s"
}

# heap used after a full GC (KiB) and RSS (KiB) of the gateway: "<heap> <rss>"
memory_sample() {
    local heap rss
    jcmd "$GATEWAY_PID" GC.run >/dev/null
    sleep 1
    heap=$(jcmd "$GATEWAY_PID" GC.heap_info | grep -oE 'used [0-9]+K' | head -n 1 | grep -oE '[0-9]+')
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$GATEWAY_PID/status")
    echo "$heap $rss"
}

flipper() { # runs in the background until killed; one line per flip in $WORK/flips.log
    local -a next=() mode=(healthy healthy healthy)
    local i now choice healthy j start=$SECONDS
    for i in 0 1 2; do next[i]=$((SECONDS + 10 + RANDOM % 11)); done
    while true; do
        now=$SECONDS
        for i in 0 1 2; do
            ((now >= next[i])) || continue
            choice=${MODES[RANDOM % ${#MODES[@]}]}
            healthy=0
            for j in 0 1 2; do
                [[ $j != "$i" && ${mode[j]} == healthy ]] && healthy=1
            done
            ((healthy)) || choice=healthy # one backend always healthy
            if curl -fs --max-time 2 "http://127.0.0.1:${CONTROL_PORTS[i]}/mode?set=$choice" >/dev/null; then
                printf '%4ds fake%d %s -> %s\n' $((now - start)) $((i + 1)) "${mode[i]}" "$choice" >>"$WORK/flips.log"
                mode[i]=$choice
            fi
            next[i]=$((now + 10 + RANDOM % 11))
        done
        sleep 1
    done
}

main() {
    command -v jcmd >/dev/null || die "jcmd (a JDK) is needed"
    command -v ss >/dev/null || die "ss (iproute2) is needed"
    command -v curl >/dev/null || die "curl is needed"
    if [[ ! -f $GATEWAY_JAR ]]; then
        log "building the gateway jar"
        ./mvnw -B -q package -DskipTests
    fi
    WORK=$(mktemp -d /tmp/gateway-soak.XXXXXX)
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkdir -p "$WORK/ledger" "$WORK/driver"
    local run_id="soak-$(date +%s)"

    read -r -a ports <<<"$(free_ports 8)"
    BACKEND_PORTS=("${ports[@]:0:3}")
    CONTROL_PORTS=("${ports[@]:3:3}")
    GW_PORT=${ports[6]}
    # Health and metrics are on the management interface, a port of their own.
    MGMT_PORT=${ports[7]}

    local i
    for i in 0 1 2; do
        java -Xmx96m -XX:+UseSerialGC "$REPO/bench/soak/FakeVllm.java" --port "${BACKEND_PORTS[i]}" \
            --control-port "${CONTROL_PORTS[i]}" --model soak-model --token-interval-ms 10 \
            >"$WORK/fake$((i + 1)).log" 2>&1 &
        PIDS+=($!)
    done
    for i in 0 1 2; do
        wait_for "http://127.0.0.1:${CONTROL_PORTS[i]}/mode" 60 "${PIDS[i]}" "$WORK/fake$((i + 1)).log"
    done
    log "fake backends on 127.0.0.1:${BACKEND_PORTS[*]} (control ${CONTROL_PORTS[*]})"

    local -a env_unset=() extra=() props
    local var
    for var in $(compgen -e); do
        case $var in
            RUNPOD_* | VASTAI_* | FALLBACK_PROVIDER | MODEL | GATEWAY_* | QUARKUS_*) env_unset+=(-u "$var") ;;
        esac
    done
    read -r -a extra <<<"${GATEWAY_JAVA_OPTS:-}"
    # AlwaysPreTouch: the heap's pages are resident from the start, so RSS growth during the soak is native memory
    # (threads, buffers, code cache, metaspace) rather than the heap being touched for the first time.
    props=(
        -Xms"$GATEWAY_HEAP" -Xmx"$GATEWAY_HEAP" -XX:+AlwaysPreTouch
        -Dquarkus.http.host=127.0.0.1
        -Dquarkus.http.port="$GW_PORT"
        -Dquarkus.management.port="$MGMT_PORT"
        '-Dquarkus.log.category."gateway.ledger".level=WARN'
        -Dgateway.telemetry.ledger.path="$WORK/ledger/ledger.jsonl"
        -Dgateway.routes.soak.models=soak
        -Dgateway.routes.soak.backends=fake1,fake2
        -Dgateway.fallback=fake3
    )
    for i in 1 2 3; do
        props+=(-Dgateway.backends.fake$i.base-url="http://127.0.0.1:${BACKEND_PORTS[i - 1]}/v1"
            -Dgateway.backends.fake$i.model=soak-model)
    done
    env "${env_unset[@]}" GATEWAY_AUTH=none java "${props[@]}" "${CLOCKS[@]}" "${extra[@]}" -jar "$GATEWAY_JAR" \
        >"$WORK/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    PIDS+=("$GATEWAY_PID")
    # The route's own health (readiness only says the process answers): start once a probe proved a backend.
    wait_for "http://127.0.0.1:$GW_PORT/health/soak" 90 "$GATEWAY_PID" "$WORK/gateway.log"
    log "gateway pid $GATEWAY_PID on 127.0.0.1:$GW_PORT ($GATEWAY_JAR, commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown))"

    local duration_s sample_start sample_mid sample_end t0
    duration_s=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
    java -Xmx256m "$REPO/bench/soak/SoakDriver.java" --url "http://127.0.0.1:$GW_PORT" --model soak \
        --minutes "$MINUTES" --clients "$CLIENTS" --disconnect-share "$DISCONNECT_SHARE" \
        --hard-timeout-s "$HARD_TIMEOUT_S" --run-id "$run_id" --out "$WORK/driver" >"$WORK/driver.log" 2>&1 &
    DRIVER_PID=$!
    t0=$SECONDS
    flipper &
    FLIPPER_PID=$!
    log "driver: $CLIENTS clients for $MINUTES min, ${DISCONNECT_SHARE} of streams abandoned, hard timeout ${HARD_TIMEOUT_S}s"

    # Memory: the first sample once the JIT has warmed up under load, one in the middle, one after the load.
    sleep $((duration_s / 4 < 30 ? duration_s / 4 : 30))
    sample_start=$(memory_sample)
    log "memory at start (under load): heap after GC $((${sample_start% *} / 1024)) MiB, RSS $((${sample_start#* } / 1024)) MiB"
    local mid_at=$((duration_s / 2 - (SECONDS - t0)))
    ((mid_at > 0)) && sleep "$mid_at"
    sample_mid=$(memory_sample)
    log "memory at middle: heap after GC $((${sample_mid% *} / 1024)) MiB, RSS $((${sample_mid#* } / 1024)) MiB"
    local progress="" line
    while kill -0 "$DRIVER_PID" 2>/dev/null; do
        sleep 5
        line=$(tail -n 1 "$WORK/driver.log")
        [[ $line != "$progress" ]] && printf '[soak] %s\n' "$line"
        progress=$line
    done
    wait "$DRIVER_PID" || die "the driver failed: $(tail -n 20 "$WORK/driver.log")"
    DRIVER_PID=""
    kill "$FLIPPER_PID" 2>/dev/null || true
    wait "$FLIPPER_PID" 2>/dev/null || true
    FLIPPER_PID=""
    log "load over after $((SECONDS - t0)) s; settling ${SETTLE_S} s"
    sleep "$SETTLE_S"

    # ---- checks ---------------------------------------------------------------------------------------------------
    local -a failures=()
    local summary="$WORK/driver/summary.txt"
    get() { awk -F= -v k="$1" '$1 == k { print $2 }' "$summary"; }
    local sent ended hung silent malformed io bugs
    sent=$(get sent) ended=$(get ended) hung=$(get hung) silent=$(get silent_end) malformed=$(get malformed)
    io=$(get io_error) bugs=$(get bugs)

    echo
    echo "Fault soak, $(date -u +%Y-%m-%dT%H:%M:%SZ): $MINUTES min, $CLIENTS clients, commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "Driver ($(get seconds) s):"
    sed 's/^/  /' "$summary"
    echo
    echo "Backend flips: $(wc -l <"$WORK/flips.log" 2>/dev/null || echo 0) ($(awk '{ print $5 }' "$WORK/flips.log" 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }'))"

    # 1 + 2: every request ended, none hung, every stream ended properly
    echo
    if [[ $sent == "$ended" && $hung == 0 ]]; then
        echo "PASS requests ended: $ended of $sent sent, 0 hung"
    else
        echo "FAIL requests ended: $ended of $sent sent, $hung hung"
        failures+=("requests ended")
    fi
    if [[ $silent == 0 && $malformed == 0 && $io == 0 ]]; then
        echo "PASS stream and answer endings: 0 silent ends, 0 malformed, 0 I/O errors"
    else
        echo "FAIL stream and answer endings: $silent silent ends, $malformed malformed, $io I/O errors (first ones below)"
        head -n 10 "$WORK/driver/bad.txt" | sed 's/^/    /'
        failures+=("endings")
    fi

    # 3: one ledger line per request
    local ledger_ids="$WORK/ledger-ids.txt" lines dups missing extra_ids
    cat "$WORK"/ledger/*.jsonl* 2>/dev/null | grep -o "\"request_id\":\"$run_id-[0-9]*\"" \
        | sed -E 's/.*:"(.*)"/\1/' | sort >"$ledger_ids" || true
    sort "$WORK/driver/sent-ids.txt" >"$WORK/sent-sorted.txt"
    lines=$(wc -l <"$ledger_ids")
    dups=$(uniq -d "$ledger_ids" | wc -l)
    missing=$(comm -23 "$WORK/sent-sorted.txt" <(uniq "$ledger_ids") | wc -l)
    extra_ids=$(comm -13 "$WORK/sent-sorted.txt" <(uniq "$ledger_ids") | wc -l)
    if [[ $lines == "$sent" && $dups == 0 && $missing == 0 && $extra_ids == 0 ]]; then
        echo "PASS ledger: $lines lines for $sent requests, none missing, none twice"
    else
        echo "FAIL ledger: $lines lines for $sent requests; $missing missing, $dups twice, $extra_ids unknown"
        comm -23 "$WORK/sent-sorted.txt" <(uniq "$ledger_ids") | head -n 5 | sed 's/^/    missing: /'
        failures+=("ledger")
    fi
    echo "  ledger outcomes: $(cat "$WORK"/ledger/*.jsonl* | grep "\"request_id\":\"$run_id-" \
        | sed -E 's/.*"outcome":"([a-z_]+)".*/\1/' | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"
    echo "  attempt outcomes: $(cat "$WORK"/ledger/*.jsonl* | grep "\"request_id\":\"$run_id-" \
        | grep -oE '"outcome":"[a-z_]+","fault":"[a-z_]+"' | sed -E 's/"outcome":"([a-z_]+)","fault":"([a-z_]+)"/\1(\2)/' \
        | sort | uniq -c | sort -rn | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"

    # 4: upstream connections back to zero (the fakes close probe connections, so what stays open is the gateway's)
    local filter="" port established min_established=999999 in_flight=0 open_completion=0 k
    for port in "${BACKEND_PORTS[@]}"; do
        filter+="${filter:+ or }dport = :$port"
    done
    for k in 1 2 3; do
        established=$(ss -Htn state established "( $filter )" | wc -l)
        ((established < min_established)) && min_established=$established
        sleep 1
    done
    for i in 0 1 2; do
        in_flight=$((in_flight + $(curl -fs "http://127.0.0.1:${CONTROL_PORTS[i]}/stats" | awk -F= '$1 == "completions_in_flight" { print $2 }')))
        open_completion=$((open_completion + $(curl -fs "http://127.0.0.1:${CONTROL_PORTS[i]}/stats" | awk -F= '$1 == "open_completion_connections" { print $2 }')))
    done
    if ((min_established == 0 && in_flight == 0 && open_completion == 0)); then
        echo "PASS upstream connections after ${SETTLE_S} s: 0 established (ss), 0 completions in flight, 0 completion connections open at the backends"
    else
        echo "FAIL upstream connections after ${SETTLE_S} s: $min_established established (ss, lowest of 3), $in_flight completions in flight, $open_completion completion connections open at the backends"
        failures+=("upstream connections")
    fi

    # 5: memory
    sample_end=$(memory_sample)
    local h0=$((${sample_start% *} / 1024)) h1=$((${sample_mid% *} / 1024)) h2=$((${sample_end% *} / 1024))
    local r0=$((${sample_start#* } / 1024)) r1=$((${sample_mid#* } / 1024)) r2=$((${sample_end#* } / 1024))
    if ((h2 - h0 <= HEAP_GROWTH_MB && r2 - r0 <= RSS_GROWTH_MB)); then
        echo "PASS memory: heap after full GC $h0 / $h1 / $h2 MiB (start / middle / end, limit +$HEAP_GROWTH_MB), RSS $r0 / $r1 / $r2 MiB (limit +$RSS_GROWTH_MB)"
    else
        echo "FAIL memory: heap after full GC $h0 / $h1 / $h2 MiB (start / middle / end, limit +$HEAP_GROWTH_MB), RSS $r0 / $r1 / $r2 MiB (limit +$RSS_GROWTH_MB)"
        failures+=("memory")
    fi

    # 6: the gateway's log
    local errors warns
    errors=$(grep -c ' ERROR ' "$WORK/gateway.log" || true)
    warns=$(grep -c ' WARN ' "$WORK/gateway.log" || true)
    if ((errors == 0)); then
        echo "PASS gateway log: 0 ERROR lines ($warns WARN lines)"
    else
        echo "FAIL gateway log: $errors ERROR lines ($warns WARN lines); the first ones:"
        grep ' ERROR ' "$WORK/gateway.log" | head -n 10 | cut -c1-400 | sed 's/^/    /'
        failures+=("gateway log")
    fi
    if ((warns > 0)); then
        echo "  WARN lines by logger: $(grep ' WARN ' "$WORK/gateway.log" | grep -oE '\[[A-Za-z0-9_.$]+\]' | sort | uniq -c | sort -rn | head -n 5 | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"
    fi

    echo
    if ((${#failures[@]})); then
        echo "FAILED: ${failures[*]} (SOAK_KEEP_TMP=1 keeps the logs)"
        exit 1
    fi
    echo "ALL CHECKS PASSED"
}

main "$@"
