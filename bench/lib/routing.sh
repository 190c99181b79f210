# shellcheck shell=bash
# bench/lib/routing.sh: bench/routing.sh's settings, the simulated replicas, the fronts (nginx and the gateway) in
# front of them, their counters and one measured run of the workload per variant and front.

ROUTING_MODEL=Qwen/Qwen2.5-7B-Instruct # the replicas' model; every front is sent this name (the gateway's route
                                       # "chat" accepts its backends' own model ids)
REPLICAS=3
DRIVER_GRACE=120                       # seconds AgenticLoad lets the turns in flight finish after the duration
SIMULATOR_CLASS=org.canonic.gateway.simulator.SimulatorMain
ALL_FRONTS=(nginx-rr nginx-least-conn nginx-session-hash gateway-default gateway-cache-aware gateway-least-loaded
    gateway-ordered gateway-default-nohedge)
ALL_VARIANTS=(equal slow stall)
# The replica counters read before and after each run (summed over each replica's series).
REPLICA_COUNTERS=(vllm:prefix_cache_queries_total vllm:prefix_cache_hits_total vllm:prompt_tokens_total
    vllm:generation_tokens_total vllm:request_success_total simulator_requests_received_total)

# Reads and checks every knob of bench/routing.sh; sets the upper-case globals.
read_routing_settings() {
    DURATION=${BENCH_ROUTING_DURATION:-60}
    SESSIONS=${BENCH_ROUTING_SESSIONS:-24}
    SEED=${BENCH_ROUTING_SEED:-42}
    MAX_MODEL_LEN=${BENCH_ROUTING_MAX_MODEL_LEN:-32768}
    KV_BLOCKS=${BENCH_ROUTING_KV_BLOCKS:-}
    MAX_NUM_SEQS=${BENCH_ROUTING_MAX_NUM_SEQS:-}
    MAX_NUM_BATCHED_TOKENS=${BENCH_ROUTING_MAX_NUM_BATCHED_TOKENS:-}
    SYSTEM_TOKENS=${BENCH_ROUTING_SYSTEM_TOKENS:-8000}
    RESULT_MIN=${BENCH_ROUTING_RESULT_MIN:-300}
    RESULT_MAX=${BENCH_ROUTING_RESULT_MAX:-3000}
    OUT_MIN=${BENCH_ROUTING_OUT_MIN:-64}
    OUT_MAX=${BENCH_ROUTING_OUT_MAX:-256}
    THINK_MIN_MS=${BENCH_ROUTING_THINK_MIN_MS:-1000}
    THINK_MAX_MS=${BENCH_ROUTING_THINK_MAX_MS:-3000}
    read -r -a VARIANTS <<<"${BENCH_ROUTING_VARIANTS:-${ALL_VARIANTS[*]}}"
    read -r -a FRONTS <<<"${BENCH_ROUTING_FRONTS:-${ALL_FRONTS[*]}}"
    local name value v f
    for name in DURATION SESSIONS SEED MAX_MODEL_LEN SYSTEM_TOKENS RESULT_MIN RESULT_MAX OUT_MIN OUT_MAX THINK_MIN_MS \
        THINK_MAX_MS; do
        value=${!name}
        [[ $value =~ ^[0-9]+$ ]] || die "BENCH_ROUTING_$name must be a whole number, got '$value'"
    done
    for name in KV_BLOCKS MAX_NUM_SEQS MAX_NUM_BATCHED_TOKENS; do
        value=${!name}
        [[ -z $value || $value =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUTING_$name must be unset or a positive whole number, got '$value'"
    done
    ((DURATION >= 5 && DURATION <= 3600)) || die "BENCH_ROUTING_DURATION must be 5..3600 s, got $DURATION"
    ((SESSIONS >= 1 && SESSIONS <= 1000)) || die "BENCH_ROUTING_SESSIONS must be 1..1000, got $SESSIONS"
    ((SEED <= 2147483647)) || die "BENCH_ROUTING_SEED must be at most 2147483647"
    ((MAX_MODEL_LEN >= 4096 && MAX_MODEL_LEN <= 1048576)) || die "BENCH_ROUTING_MAX_MODEL_LEN must be 4096..1048576"
    ((SYSTEM_TOKENS >= 3000)) || die "BENCH_ROUTING_SYSTEM_TOKENS must be at least 3000 (the 16 tool schemas alone take ~2.4k)"
    ((RESULT_MIN >= 1 && RESULT_MIN <= RESULT_MAX)) || die "BENCH_ROUTING_RESULT_MIN must be 1..BENCH_ROUTING_RESULT_MAX"
    ((OUT_MIN >= 1 && OUT_MIN <= OUT_MAX)) || die "BENCH_ROUTING_OUT_MIN must be 1..BENCH_ROUTING_OUT_MAX"
    ((THINK_MIN_MS <= THINK_MAX_MS)) || die "BENCH_ROUTING_THINK_MIN_MS must be at most BENCH_ROUTING_THINK_MAX_MS"
    # The first turn: the shared prefix, a task of up to 300 tokens, the answer, role markers (AgenticLoad's estimate).
    ((SYSTEM_TOKENS + 300 + OUT_MAX + 32 <= MAX_MODEL_LEN)) \
        || die "the first turn (BENCH_ROUTING_SYSTEM_TOKENS + 300 + BENCH_ROUTING_OUT_MAX) does not fit in BENCH_ROUTING_MAX_MODEL_LEN"
    ((${#VARIANTS[@]})) || die "BENCH_ROUTING_VARIANTS is empty"
    ((${#FRONTS[@]})) || die "BENCH_ROUTING_FRONTS is empty"
    for v in "${VARIANTS[@]}"; do
        in_list "$v" "${ALL_VARIANTS[@]}" || die "unknown variant '$v' in BENCH_ROUTING_VARIANTS (${ALL_VARIANTS[*]})"
    done
    for f in "${FRONTS[@]}"; do
        in_list "$f" "${ALL_FRONTS[@]}" || die "unknown front '$f' in BENCH_ROUTING_FRONTS (${ALL_FRONTS[*]})"
    done
    read_pinning
}

# The replicas' speed factors, stall settings and fronts of a variant. A variant runs its fronts that are also in
# BENCH_ROUTING_FRONTS, in this order.
variant_speeds() { case $1 in slow) echo 1,1,1.5 ;; *) echo 1,1,1 ;; esac; }
variant_stall_rate() { case $1 in stall) echo 0.05 ;; *) echo 0 ;; esac; }
variant_fronts() {
    case $1 in
        stall) echo nginx-least-conn gateway-default gateway-default-nohedge ;;
        *) echo nginx-rr nginx-least-conn nginx-session-hash gateway-default gateway-cache-aware gateway-least-loaded gateway-ordered ;;
    esac
}
variant_desc() {
    case $1 in
        equal) echo "3 replicas at speed 1,1,1, no stalls" ;;
        slow) echo "3 replicas at speed 1,1,1.5 (replica 3 takes 1.5x as long per step), no stalls" ;;
        stall) echo "3 replicas at speed 1,1,1, 5 % of requests stall 5000 ms" ;;
    esac
}

# The classpath SimulatorMain is started from: BENCH_ROUTING_SIMULATOR_CP, else the packaged gateway's own
# (quarkus-app/app, lib/main, lib/boot next to GATEWAY_JAR). Dies with what to do when the class is not there.
resolve_simulator() {
    local app
    app=$(dirname "$GATEWAY_JAR")
    SIM_CP=${BENCH_ROUTING_SIMULATOR_CP:-$app/app/*:$app/lib/main/*:$app/lib/boot/*}
    if ! javap -cp "$SIM_CP" "$SIMULATOR_CLASS" >/dev/null 2>&1; then
        if [[ -n ${BENCH_ROUTING_SIMULATOR_CP:-} ]]; then
            die "$SIMULATOR_CLASS is not on BENCH_ROUTING_SIMULATOR_CP ($SIM_CP)"
        fi
        die "$SIMULATOR_CLASS (the simulated vLLM replicas) is not in the packaged gateway ($app). It is built with
the gateway: if \`git log main\` shows it, merge main; then rebuild the jar (./mvnw -B -q package -DskipTests; this
script does not rebuild a jar that exists). BENCH_ROUTING_SIMULATOR_CP names another classpath that has it."
    fi
}

# start_simulator <variant> <dir>: a fresh simulator (3 replicas, cold caches) on the load CPU; waits for READY and
# sets SIM_PID and REPLICA_URLS (base URLs ending in /v1). Returns 1 with START_ERROR set when it does not come up.
start_simulator() {
    local variant=$1 dir=$2 deadline
    local -a args=(--replicas "$REPLICAS" --ports 0,0,0 --model "$ROUTING_MODEL" --max-model-len "$MAX_MODEL_LEN"
        --speed "$(variant_speeds "$variant")" --stall-rate "$(variant_stall_rate "$variant")" --stall-ms 5000 --seed "$SEED")
    [[ -z $KV_BLOCKS ]] || args+=(--kv-blocks "$KV_BLOCKS")
    [[ -z $MAX_NUM_SEQS ]] || args+=(--max-num-seqs "$MAX_NUM_SEQS")
    [[ -z $MAX_NUM_BATCHED_TOKENS ]] || args+=(--max-num-batched-tokens "$MAX_NUM_BATCHED_TOKENS")
    SIM_ARGS="${args[*]}"
    "${PIN_LOAD[@]}" java -cp "$SIM_CP" "$SIMULATOR_CLASS" "${args[@]}" >"$dir/simulator.log" 2>&1 &
    SIM_PID=$!
    STARTED_PIDS+=("$SIM_PID")
    deadline=$((SECONDS + 60))
    until grep -qs '^READY' "$dir/simulator.log"; do
        if ! kill -0 "$SIM_PID" 2>/dev/null; then
            show_log "$dir/simulator.log"
            START_ERROR="the simulator exited before READY: $(log_cause "$dir/simulator.log")"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            show_log "$dir/simulator.log"
            START_ERROR="the simulator printed no READY within 60 s"
            return 1
        fi
        sleep 0.05
    done
    mapfile -t REPLICA_URLS < <(sed -n 's|^replica [0-9]* \(http://[^ ]*\)$|\1|p' "$dir/simulator.log")
    if ((${#REPLICA_URLS[@]} != REPLICAS)); then
        START_ERROR="the simulator announced ${#REPLICA_URLS[@]} replicas, expected $REPLICAS"
        return 1
    fi
    return 0
}

# The tiny streaming request that proves a front answers: one token of a 1-token prompt, so it warms no cache.
tiny_request() {
    printf '{"model":"%s","messages":[{"role":"user","content":"hi"}],"max_tokens":1,"stream":true,"stream_options":{"include_usage":true}}' \
        "$ROUTING_MODEL"
}

# poll_chat_ready <base-url> <pid> <log> <seconds> <out-prefix>: polls until a chat completion through the front
# answers 200 with a stream ending in data: [DONE]; sets READY_MS (since the call). Returns 1 with START_ERROR set.
poll_chat_ready() {
    local url=$1 pid=$2 logfile=$3 deadline=$((SECONDS + $4)) out=$5 code="" start
    start=$(date +%s%N)
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log "$logfile"
            START_ERROR="exited before it answered: $(log_cause "$logfile")"
            return 1
        fi
        code=$(curl -sS --max-time 10 -o "$out.body" -w '%{http_code}' -H 'content-type: application/json' \
            --data-binary "$(tiny_request)" "$url/chat/completions" 2>/dev/null) || code=curl-failed
        if [[ $code == 200 ]]; then
            if ! grep -q '^data: \[DONE\]' "$out.body"; then
                START_ERROR="answered 200 without data: [DONE]: $(head -c 300 "$out.body")"
                return 1
            fi
            READY_MS=$((($(date +%s%N) - start) / 1000000))
            return 0
        fi
        sleep 0.1
    done
    show_log "$logfile"
    START_ERROR="no chat completion answered 200 within $4 s (last: $code $(head -c 300 "$out.body" 2>/dev/null))"
    return 1
}

# log_cause <log>: the line of a log that most likely says why a process ended (a configuration error, the first
# ERROR or exception, else the last line), on one line.
log_cause() {
    { grep -m1 -E 'SRCFG[0-9]+|\[emerg\]|ERROR|Exception' "$1" 2>/dev/null || tail -n1 "$1" 2>/dev/null; } \
        | tr -s '\t\r\n' ' ' | sed 's/^ *//; s/ *$//' | cut -c1-300
}

# nginx's upstream block for a front: round-robin (nothing), least_conn or a consistent hash of x-session-id.
nginx_balancing() {
    case $1 in
        nginx-least-conn) echo "least_conn;" ;;
        nginx-session-hash) echo 'hash $http_x_session_id consistent;' ;;
        *) echo "# round-robin (nginx's default)" ;;
    esac
}

# start_nginx_front <front> <dir>: nginx with the three replicas in one upstream block; sets FRONT_URL, FRONT_PIDS.
start_nginx_front() {
    local front=$1 dir=$2/nginx port url servers=""
    mkdir -p "$dir"
    port=$(free_ports 1)
    for url in "${REPLICA_URLS[@]}"; do
        url=${url#http://}
        servers+="        server ${url%%/*};"$'\n'
    done
    {
        nginx_conf_head "$dir" "$front for bench/routing.sh: one worker, unbuffered, keep-alive pool to the replicas."
        cat <<CONF
    upstream replicas {
        $(nginx_balancing "$front")
${servers}        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$port;
        # Agentic prompts are 30-130 KB: held in memory, never spilled to a temp file.
        client_max_body_size 8m;
        client_body_buffer_size 8m;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout 600s;
        proxy_send_timeout 600s;
        location / {
            proxy_pass http://replicas;
        }
    }
}
CONF
    } >"$dir/nginx.conf"
    launch_nginx "$dir"
    FRONT_URL="http://127.0.0.1:$port/v1"
    FRONT_PIDS=$NGINX_PID
    FRONT_LOG=$dir/error.log
    poll_chat_ready "$FRONT_URL" "$NGINX_PID" "$dir/stderr.log" 15 "$dir/ready" || return 1
    nginx_workers "$NGINX_PID"
    FRONT_PIDS=$NGINX_PIDS
}

# start_gateway_front <front> <dir>: the packaged gateway (production profile, auth off, loopback) with route chat =
# r1, r2, r3 (the replicas); gateway-<policy> sets the route's policy (none for default), -nohedge turns hedging off.
# Sets FRONT_URL, FRONT_PIDS, MGMT_PORT.
start_gateway_front() {
    local front=$1 dir=$2 policy port i
    local -a props extra=()
    policy=${front#gateway-}
    policy=${policy%-nohedge}
    read -r port MGMT_PORT <<<"$(free_ports 2)"
    props=(
        -Xms"$JVM_HEAP" -Xmx"$JVM_HEAP"
        -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port"
        -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$MGMT_PORT"
        -Dgateway.routes.chat.backends=r1,r2,r3
    )
    for i in 1 2 3; do
        props+=(-Dgateway.backends.r$i.base-url="${REPLICA_URLS[i - 1]}" -Dgateway.backends.r$i.model="$ROUTING_MODEL")
    done
    [[ $policy == default ]] || props+=(-Dgateway.routes.chat.policy="$policy")
    [[ $front != *-nohedge ]] || props+=(-Dgateway.routes.chat.hedging.enabled=false)
    read -r -a extra <<<"${GATEWAY_JAVA_OPTS:-}"
    GATEWAY_PROPS="${props[*]} ${extra[*]}"
    gateway_env_unset
    mkdir -p "$dir/state"
    env "${GATEWAY_ENV_UNSET[@]}" GATEWAY_AUTH=none GATEWAY_STATE_DIR="$dir/state" \
        "${PIN_PROXY[@]}" java "${props[@]}" "${extra[@]}" -jar "$GATEWAY_JAR" >"$dir/gateway.log" 2>&1 &
    FRONT_PIDS=$!
    STARTED_PIDS+=("$FRONT_PIDS")
    FRONT_URL="http://127.0.0.1:$port/v1"
    FRONT_LOG=$dir/gateway.log
    poll_chat_ready "$FRONT_URL" "$FRONT_PIDS" "$dir/gateway.log" 90 "$dir/ready" || return 1
    wait_backends_up "$dir"
}

# Waits (at most 30 s) until the gateway's probes have all three replicas up (gateway_backend_state{state="up"} 1), so
# no front starts with a replica still pending. Without that gauge it returns at once.
wait_backends_up() {
    local deadline=$((SECONDS + 30)) up
    while ((SECONDS < deadline)); do
        curl -sS --max-time 5 "http://127.0.0.1:$MGMT_PORT/q/metrics" >"$1/q-metrics-ready.txt" 2>/dev/null || true
        grep -q '^gateway_backend_state{' "$1/q-metrics-ready.txt" || return 0
        up=$(grep -E '^gateway_backend_state\{.*state="up".*\} 1(\.0)?$' "$1/q-metrics-ready.txt" | grep -c 'backend="r[123]"' || true)
        ((up < REPLICAS)) || return 0
        sleep 0.2
    done
    log "WARNING: the gateway's probes did not have all $REPLICAS replicas up within 30 s ($up up); measuring anyway"
}

# read_replica_counters <out-file>: every replica's counters, one line "<replica> <metric> <value>" each (summed
# over the metric's series); a replica whose /metrics cannot be read or lacks a counter gives no line for it.
read_replica_counters() {
    local i base
    : >"$1"
    for ((i = 0; i < REPLICAS; i++)); do
        base=${REPLICA_URLS[i]%/}
        base=${base%/v1}
        curl -sS --max-time 5 "$base/metrics" 2>/dev/null | awk -v r="$i" -v want="${REPLICA_COUNTERS[*]}" '
            BEGIN { n = split(want, w, " "); for (k = 1; k <= n; k++) wanted[w[k]] = 1 }
            /^[a-zA-Z_:]/ {
                name = $1; sub(/\{.*/, "", name)
                if (name in wanted) { sum[name] += $NF; seen[name] = 1 }
            }
            END { for (name in seen) printf "%d %s %.0f\n", r, name, sum[name] }' >>"$1" || true
    done
}

# counter_deltas <before> <after>: "queries hits prompt generation success received r1 r2 r3 missing", the sums of
# the deltas over the replicas, the received-request delta of each replica, and which counters were missing.
counter_deltas() {
    awk -v want="${REPLICA_COUNTERS[*]}" -v replicas="$REPLICAS" '
        FNR == NR { before[$1 " " $2] = $3; next }
        { after[$1 " " $2] = $3 }
        END {
            n = split(want, w, " ")
            missing = ""
            for (k = 1; k <= n; k++) {
                total[k] = 0
                for (r = 0; r < replicas; r++) {
                    key = r " " w[k]
                    if (!(key in before) || !(key in after)) { missing = missing (missing == "" ? "" : ",") "r" (r + 1) ":" w[k]; continue }
                    d = after[key] - before[key]
                    total[k] += d
                    if (w[k] == "simulator_requests_received_total") per[r] = d
                }
            }
            for (k = 1; k <= n; k++) printf "%.0f ", total[k]
            for (r = 0; r < replicas; r++) printf "%s ", (r in per ? sprintf("%.0f", per[r]) : "n/a")
            print (missing == "" ? "-" : missing)
        }' "$1" "$2"
}

# gateway_hedges <mgmt-port> <out-file>: "started won cancelled" from gateway_hedges_total{event=...} (summed over
# the other labels), "n/a n/a n/a" when the gateway has no such counter.
gateway_hedges() {
    curl -sS --max-time 5 "http://127.0.0.1:$1/q/metrics" >"$2" 2>/dev/null || true
    awk '
        /^gateway_hedges_total\{/ {
            found = 1
            if (match($0, /event="[a-z_]+"/)) { e = substr($0, RSTART + 7, RLENGTH - 8); sum[e] += $NF }
        }
        END {
            if (!found) { print "n/a n/a n/a"; exit }
            printf "%.0f %.0f %.0f\n", sum["started"], sum["won"], sum["cancelled"]
        }' "$2"
}

# run_front <variant> <front>: one measured run: a fresh simulator, the front, the counters, the workload, the
# counters again, both stopped. Fills the ROW_* entries of <variant>/<front>; a start failure goes to FAILURES.
run_front() {
    local variant=$1 front=$2 key="$1/$2" dir="$WORK_DIR/$1-$2" rc=0 line kv
    local -a hedges_before=(n/a n/a n/a) hedges_after=(n/a n/a n/a) deltas
    local -A d=()
    mkdir -p "$dir"
    ROW_STATUS[$key]=failed
    FRONT_PIDS="" SIM_PID="" MGMT_PORT=""
    START_ERROR=""
    if ! start_simulator "$variant" "$dir"; then
        FAILURES+=("$key: $START_ERROR")
        log "$key: $START_ERROR"
        stop_pids ${SIM_PID:+"$SIM_PID"}
        return 0
    fi
    ROW_SIM_ARGS[$key]=$SIM_ARGS
    local started=0
    case $front in
        nginx-*) start_nginx_front "$front" "$dir" && started=1 ;;
        gateway-*)
            start_gateway_front "$front" "$dir" && started=1
            ROW_GATEWAY_PROPS[$key]=$GATEWAY_PROPS
            ;;
    esac
    if ((!started)); then
        FAILURES+=("$key: the front did not start: $START_ERROR")
        log "$key: the front did not start: $START_ERROR"
        # shellcheck disable=SC2086 # pid lists split on purpose
        stop_pids $FRONT_PIDS "$SIM_PID"
        return 0
    fi
    ROW_READY_MS[$key]=$READY_MS
    log "$key: simulator pid $SIM_PID (${REPLICA_URLS[*]}), front pids $FRONT_PIDS at $FRONT_URL, answered after $READY_MS ms"
    AFFINITY_BY_KEY[$key]=$(affinity_of simulator "$SIM_PID" front "$FRONT_PIDS")

    read_replica_counters "$dir/counters-before.txt"
    [[ -z $MGMT_PORT ]] || read -r -a hedges_before <<<"$(gateway_hedges "$MGMT_PORT" "$dir/q-metrics-before.txt")"
    UPSTREAM_PID=$SIM_PID PROXY_PIDS=$FRONT_PIDS OWN_PIDS="$SIM_PID $FRONT_PIDS"
    window_begin "$FRONT_PIDS"
    log "$key: driving $SESSIONS sessions for ${DURATION} s (+ the turns in flight)"
    timeout --kill-after=10 $((DURATION + DRIVER_GRACE + 60)) "${PIN_LOAD[@]}" java -Xms256m -Xmx"$JVM_HEAP" \
        -cp "$HELPER_JAR" bench.AgenticLoad --url "$FRONT_URL" --model "$ROUTING_MODEL" --sessions "$SESSIONS" \
        --duration "$DURATION" --seed "$SEED" --system-tokens "$SYSTEM_TOKENS" --result-min "$RESULT_MIN" \
        --result-max "$RESULT_MAX" --out-min "$OUT_MIN" --out-max "$OUT_MAX" --think-min-ms "$THINK_MIN_MS" \
        --think-max-ms "$THINK_MAX_MS" --max-context "$MAX_MODEL_LEN" --out "$dir/driver.json" \
        --trace "$dir/trace.txt" >"$dir/driver.out" 2>"$dir/driver.err" &
    local driver=$!
    STARTED_PIDS+=("$driver")
    wait "$driver" || rc=$?
    stop_pids "$driver"
    window_end "$FRONT_PIDS"
    read_replica_counters "$dir/counters-after.txt"
    [[ -z $MGMT_PORT ]] || read -r -a hedges_after <<<"$(gateway_hedges "$MGMT_PORT" "$dir/q-metrics-after.txt")"
    # shellcheck disable=SC2086
    stop_pids $FRONT_PIDS "$SIM_PID"

    line=$(tail -n1 "$dir/driver.out" 2>/dev/null || true)
    if ((rc != 0)) || [[ $line != requests=* || ! -s $dir/driver.json ]]; then
        cat "$dir/driver.err" >&2 2>/dev/null || true
        FAILURES+=("$key: the workload driver failed (exit code $rc, $dir/driver.err)")
        log "$key: the workload driver failed (exit code $rc)"
        return 0
    fi
    for kv in $line; do d[${kv%%=*}]=${kv#*=}; done
    ROW_STATUS[$key]=ok
    ROW_REQ[$key]=${d[requests]}
    ROW_ERR[$key]=${d[errors]}
    ROW_ERR_KINDS[$key]=${d[errors_by_kind]}
    ROW_T50[$key]=${d[ttft_p50_ms]}
    ROW_T90[$key]=${d[ttft_p90_ms]}
    ROW_T99[$key]=${d[ttft_p99_ms]}
    ROW_E50[$key]=${d[e2e_p50_ms]}
    ROW_TOKS[$key]=${d[output_tokens_per_s]}
    cp "$dir/driver.json" "$WORK_DIR/driver-$variant-$front.json"
    ROW_DRIVER_JSON[$key]=$WORK_DIR/driver-$variant-$front.json

    read -r -a deltas <<<"$(counter_deltas "$dir/counters-before.txt" "$dir/counters-after.txt")"
    # deltas: queries hits prompt generation success received r1 r2 r3 missing
    if [[ ${deltas[9]} != - ]]; then
        FAILURES+=("$key: replica counters missing or unreadable: ${deltas[9]}")
        log "$key: replica counters missing or unreadable: ${deltas[9]}"
    fi
    ROW_QUERIES[$key]=${deltas[0]}
    ROW_HITS[$key]=${deltas[1]}
    ROW_UPSTREAM[$key]=${deltas[5]}
    ROW_SPLIT[$key]="${deltas[6]} ${deltas[7]} ${deltas[8]}"
    ROW_HIT[$key]=$(awk -v h="${deltas[1]}" -v q="${deltas[0]}" 'BEGIN { if (q > 0) printf "%.1f", h / q * 100; else printf "n/a" }')
    ROW_EXTRA[$key]=$(awk -v u="${deltas[5]}" -v c="${ROW_REQ[$key]}" 'BEGIN { if (c > 0) printf "%.1f", (u / c - 1) * 100; else printf "n/a" }')
    ROW_HEDGES[$key]=n/a
    if [[ ${hedges_after[0]} != n/a ]]; then
        local b0=${hedges_before[0]/n\/a/0} b1=${hedges_before[1]/n\/a/0} b2=${hedges_before[2]/n\/a/0}
        ROW_HEDGES[$key]="$((hedges_after[0] - b0)) $((hedges_after[1] - b1)) $((hedges_after[2] - b2))"
    fi
    ROW_FRONT_CPU[$key]=$(cpu_percent "$W_PROXY_TICKS" "$W_ELAPSED")
    ROW_LOAD_CPU[$key]=$((W_UPSTREAM_PCT + W_TOOLS_PCT))
    ROW_DISTURBED[$key]=0
    flag_disturbed "$key" && ROW_DISTURBED[$key]=1
    log "$key: ${ROW_REQ[$key]} requests, ${ROW_ERR[$key]} errors, TTFT p50 ${ROW_T50[$key]} ms p99 ${ROW_T99[$key]} ms, ${ROW_TOKS[$key]} output tok/s, prefix-cache hits ${ROW_HIT[$key]} %, extra upstream ${ROW_EXTRA[$key]} %"
    return 0
}
