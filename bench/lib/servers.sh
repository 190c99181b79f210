# shellcheck shell=bash
# bench/lib/servers.sh: building and starting the upstream, nginx, the Vert.x floor and the gateway, proving the
# upstream's per-event writes, and checking every target's answers once before measuring.

# Builds bench/floor (Floor, FakeVllm, LowLoad) with the repo's Maven wrapper; sets HELPER_JAR.
build_helpers() {
    HELPER_JAR="$BENCH_DIR/floor/target/bench-floor.jar"
    log "building bench/floor (../mvnw -f bench/floor/pom.xml package)"
    (cd "$REPO_DIR" && ./mvnw -B -q -f bench/floor/pom.xml package) >"$WORK_DIR/floor-build.log" 2>&1 \
        || { tail -n 40 "$WORK_DIR/floor-build.log" >&2; die "building bench/floor failed"; }
    [[ -f $HELPER_JAR ]] || die "the build did not produce $HELPER_JAR"
}

# GATEWAY_JAR if given, else the repo's packaged jar, built with the Maven wrapper when missing.
resolve_gateway_jar() {
    if [[ -n ${GATEWAY_JAR:-} ]]; then
        [[ -f $GATEWAY_JAR ]] || die "GATEWAY_JAR=$GATEWAY_JAR does not exist"
    else
        GATEWAY_JAR="$REPO_DIR/target/quarkus-app/quarkus-run.jar"
        if [[ ! -f $GATEWAY_JAR ]]; then
            log "no packaged gateway at $GATEWAY_JAR: building it (./mvnw -B -q package -DskipTests)"
            (cd "$REPO_DIR" && ./mvnw -B -q package -DskipTests) || die "the gateway build failed"
            [[ -f $GATEWAY_JAR ]] || die "the build did not produce $GATEWAY_JAR"
        fi
    fi
    GATEWAY_JAR=$(cd "$(dirname "$GATEWAY_JAR")" && pwd)/$(basename "$GATEWAY_JAR")
}

show_log() { grep -v -E '^[[:space:]]+(at |\.\.\. [0-9]+ more)' "$1" 2>/dev/null | tail -n 30 >&2 || true; }

# Polls until a chat completion through the target answers 200; prints the milliseconds since <start-ns>.
# wait_ready <target> <start-ns> <seconds> <pid> <log>
wait_ready() {
    local target=$1 start=$2 seconds=$3 pid=$4 logfile=$5 deadline code=""
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log "$logfile"
            die "$target (pid $pid) exited before it answered"
        fi
        code=$(curl_post "$target" json "$WORK_DIR/ready-$target")
        if [[ $code == 200 ]]; then
            echo $((($(date +%s%N) - start) / 1000000))
            return 0
        fi
        sleep 0.05
    done
    show_log "$logfile"
    die "$target did not answer a chat completion with 200 within ${seconds}s (last: $code $(head -c 300 "$WORK_DIR/ready-$target.body" 2>/dev/null))"
}

start_upstream() {
    local start
    start=$(date +%s%N)
    "${PIN_LOAD[@]}" java -Xms256m -Xmx256m -cp "$HELPER_JAR" bench.FakeVllm "$UP_PORT" "$PACE_MS" \
        >"$WORK_DIR/upstream.log" 2>&1 &
    UPSTREAM_PID=$!
    STARTED_PIDS+=("$UPSTREAM_PID")
    wait_ready direct "$start" 30 "$UPSTREAM_PID" "$WORK_DIR/upstream.log" >/dev/null
    log "upstream: fake vLLM pid $UPSTREAM_PID on 127.0.0.1:$UP_PORT${LOAD_CPU:+, CPU $LOAD_CPU}, pace ${PACE_MS} ms"
}

write_nginx_conf() {
    local dir=$WORK_DIR/nginx
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<CONF
# Reference proxy for bench/run.sh (generated): one worker, unbuffered, keep-alive pool to the upstream.
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    # Never close a client or upstream connection every 1000 requests (the default); the others never do.
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    upstream fake_vllm {
        server 127.0.0.1:$UP_PORT;
        # Idle connections kept per worker: above the paced connection count, so none is closed after its stream.
        keepalive 1024;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location / {
            proxy_pass http://fake_vllm;
        }
    }
}
CONF
}

start_nginx() {
    local dir=$WORK_DIR/nginx start worker
    write_nginx_conf
    nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/stderr.log" \
        || { cat "$dir/stderr.log" >&2; die "the nginx config is invalid ($dir/nginx.conf)"; }
    start=$(date +%s%N)
    "${PIN_PROXY[@]}" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stderr.log" 2>&1 &
    NGINX_PID=$!
    STARTED_PIDS+=("$NGINX_PID")
    wait_ready nginx "$start" 10 "$NGINX_PID" "$dir/stderr.log" >/dev/null
    NGINX_PIDS=$NGINX_PID
    for worker in $(ps -o pid= --ppid "$NGINX_PID"); do
        STARTED_PIDS+=("$worker")
        NGINX_PIDS+=" $worker"
    done
    log "nginx: master+worker $NGINX_PIDS on 127.0.0.1:$NGINX_PORT${PROXY_CPU:+, CPU $PROXY_CPU}"
}

start_floor() {
    local start
    start=$(date +%s%N)
    "${PIN_PROXY[@]}" java -Xms"$JVM_HEAP" -Xmx"$JVM_HEAP" -cp "$HELPER_JAR" "$FLOOR_MAIN" "$FLOOR_PORT" "$UP_PORT" \
        >"$WORK_DIR/floor.log" 2>&1 &
    FLOOR_PID=$!
    STARTED_PIDS+=("$FLOOR_PID")
    FLOOR_START_MS=$(wait_ready floor "$start" 60 "$FLOOR_PID" "$WORK_DIR/floor.log")
    FLOOR_CPUS=$(sed -n 's/.* \([0-9]*\) CPU(s) seen.*/\1/p' "$WORK_DIR/floor.log" | head -n1)
    log "floor: pid $FLOOR_PID on 127.0.0.1:$FLOOR_PORT${PROXY_CPU:+, CPU $PROXY_CPU}; first answer after ${FLOOR_START_MS} ms ($(head -n1 "$WORK_DIR/floor.log"))"
}

# The gateway in its production profile with its default configuration, except: a client key (GATEWAY_API_KEYS,
# sent by every request as Authorization: Bearer), three backends and routes pointing at the upstream, the ports
# (loopback, management on a free port), the state directory (in the temp dir) and the heap the previous script
# gave it. The deployment variables are removed from its environment so a developer's shell adds nothing.
# GATEWAY_NAME (default gateway) names its log and state directory, so bench/ab.sh can start two.
start_gateway() {
    local -a env_unset=() extra=() props=() shape
    local var start
    for var in $(compgen -e); do
        case $var in
            RUNPOD_* | VASTAI_* | GATEWAY_* | QUARKUS_* | FALLBACK_PROVIDER | MODEL | MAX_TOKENS | TOKENS_*) env_unset+=(-u "$var") ;;
        esac
    done
    read -r -a extra <<<"${GATEWAY_JAVA_OPTS:-}"
    props=(
        -Xms"$JVM_HEAP" -Xmx"$JVM_HEAP"
        -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$GW_PORT"
        -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port=0
    )
    for shape in json burst paced; do
        props+=(
            -Dgateway.backends.bench-$shape.base-url="http://127.0.0.1:$UP_PORT/$shape/v1"
            -Dgateway.backends.bench-$shape.model=bench-model
            -Dgateway.routes.bench-$shape.models=bench-$shape
            -Dgateway.routes.bench-$shape.backends=bench-$shape
        )
    done
    local name=${GATEWAY_NAME:-gateway}
    mkdir -p "$WORK_DIR/$name-state"
    start=$(date +%s%N)
    env "${env_unset[@]}" GATEWAY_API_KEYS="bench:$CLIENT_KEY" GATEWAY_STATE_DIR="$WORK_DIR/$name-state" \
        "${PIN_PROXY[@]}" java "${props[@]}" "${extra[@]}" -jar "$GATEWAY_JAR" \
        >"$WORK_DIR/$name.log" 2>&1 &
    GATEWAY_PID=$!
    STARTED_PIDS+=("$GATEWAY_PID")
    GATEWAY_START_MS=$(wait_ready gateway "$start" 90 "$GATEWAY_PID" "$WORK_DIR/$name.log")
    GATEWAY_RSS_IDLE=$(rss_mib "$GATEWAY_PID")
    log "$name: pid $GATEWAY_PID on 127.0.0.1:$GW_PORT${PROXY_CPU:+, CPU $PROXY_CPU}; first answer after ${GATEWAY_START_MS} ms; RSS ${GATEWAY_RSS_IDLE} MiB"
}
