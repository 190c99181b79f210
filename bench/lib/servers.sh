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

# nginx_conf_head <dir> <comment>: the start of every benchmark nginx.conf, up to the open http block: one worker in
# the foreground, no access log, client keep-alive without a request cap, pid, logs and temp files in <dir>.
nginx_conf_head() {
    cat <<CONF
# $2 (generated)
daemon off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    # Never close a client or upstream connection every 1000 requests (the default); the others never do.
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $1/client_body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
CONF
}

# launch_nginx <dir>: checks <dir>/nginx.conf and starts nginx with it on the proxy CPU, in the background; sets
# NGINX_PID (the master). Its output goes to <dir>/stderr.log, its error log to <dir>/error.log.
launch_nginx() {
    local dir=$1
    nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/stderr.log" \
        || { cat "$dir/stderr.log" >&2; die "the nginx config is invalid ($dir/nginx.conf)"; }
    "${PIN_PROXY[@]}" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stderr.log" 2>&1 &
    NGINX_PID=$!
    STARTED_PIDS+=("$NGINX_PID")
}

# nginx_workers <master>: sets NGINX_PIDS to the master and its workers (space-separated) and adds the workers to
# STARTED_PIDS. Not in a command substitution: the list must grow in this shell.
nginx_workers() {
    local worker
    NGINX_PIDS=$1
    for worker in $(ps -o pid= --ppid "$1"); do
        STARTED_PIDS+=("$worker")
        NGINX_PIDS+=" $worker"
    done
}

write_nginx_conf() {
    local dir=$WORK_DIR/nginx
    mkdir -p "$dir"
    {
        nginx_conf_head "$dir" "Reference proxy for bench/run.sh: one worker, unbuffered, keep-alive pool to the upstream."
        cat <<CONF
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
    } >"$dir/nginx.conf"
}

start_nginx() {
    local dir=$WORK_DIR/nginx start
    write_nginx_conf
    start=$(date +%s%N)
    launch_nginx "$dir"
    wait_ready nginx "$start" 10 "$NGINX_PID" "$dir/stderr.log" >/dev/null
    nginx_workers "$NGINX_PID"
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

# Sets GATEWAY_ENV_UNSET to the `env -u` options that remove the deployment variables (RUNPOD_*, VASTAI_*, GATEWAY_*,
# QUARKUS_*, ...) from a gateway's environment, so a developer's shell adds nothing to the configuration measured.
gateway_env_unset() {
    local var
    GATEWAY_ENV_UNSET=()
    for var in $(compgen -e); do
        case $var in
            RUNPOD_* | VASTAI_* | GATEWAY_* | QUARKUS_* | FALLBACK_PROVIDER | MODEL | MAX_TOKENS | TOKENS_*) GATEWAY_ENV_UNSET+=(-u "$var") ;;
        esac
    done
}

# The gateway in its production profile with its default configuration, except: a client key (GATEWAY_API_KEYS,
# sent by every request as Authorization: Bearer), three backends and routes pointing at the upstream, the ports
# (loopback, management on a free port), the state directory (in the temp dir) and the heap the previous script
# gave it. The deployment variables are removed from its environment so a developer's shell adds nothing.
# GATEWAY_NAME (default gateway) names its log and state directory, so bench/ab.sh can start two.
start_gateway() {
    local -a extra=() props=() shape
    local start
    gateway_env_unset
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
    env "${GATEWAY_ENV_UNSET[@]}" GATEWAY_API_KEYS="bench:$CLIENT_KEY" GATEWAY_STATE_DIR="$WORK_DIR/$name-state" \
        "${PIN_PROXY[@]}" java "${props[@]}" "${extra[@]}" -jar "$GATEWAY_JAR" \
        >"$WORK_DIR/$name.log" 2>&1 &
    GATEWAY_PID=$!
    STARTED_PIDS+=("$GATEWAY_PID")
    GATEWAY_START_MS=$(wait_ready gateway "$start" 90 "$GATEWAY_PID" "$WORK_DIR/$name.log")
    GATEWAY_RSS_IDLE=$(rss_mib "$GATEWAY_PID")
    log "$name: pid $GATEWAY_PID on 127.0.0.1:$GW_PORT${PROXY_CPU:+, CPU $PROXY_CPU}; first answer after ${GATEWAY_START_MS} ms; RSS ${GATEWAY_RSS_IDLE} MiB"
}
