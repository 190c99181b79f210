#!/usr/bin/env bash
# Throughput benchmark: the packaged gateway against nginx as the reference proxy.
#
# One run starts three servers on free loopback ports:
#   upstream  a fake vLLM: nginx (1 worker) answering with canned vLLM bodies via `return 200 '...'`, so the
#             backend costs almost nothing and the proxies' own overhead is what is measured;
#   nginx     the reference proxy (Debian nginx-light, proxy_buffering off, keep-alive pool to the upstream);
#   gateway   java -jar quarkus-run.jar (production profile) with two routes pointing at the upstream;
# then drives direct / nginx / gateway with wrk for non-stream and stream (32 tokens) chat completions, and prints
# requests/s, p50 and p99 latency and the gateway/nginx ratios. Design target: gateway >= 0.9x nginx's requests/s.
#
# Knobs (environment): BENCH_DURATION (s, default 15), BENCH_CONNECTIONS (default 32), BENCH_WARMUP (s, default 3,
# direct and nginx), BENCH_GATEWAY_WARMUP (s, default 10, lets the JIT compile the gateway's hot path),
# GATEWAY_JAR (prebuilt quarkus-run.jar; default: the repo's, built with ./mvnw if missing),
# GATEWAY_JAVA_OPTS (extra JVM options, e.g. -Dgateway.auth.mode=none), BENCH_AUTH_HEADER (extra request header sent
# by wrk and curl to every target, e.g. "Authorization: Bearer sk-bench"), BENCH_KEEP_TMP=1 (keep the temp dir).
# See bench/README.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
RESULTS_DIR="$BENCH_DIR/results"

DURATION=${BENCH_DURATION:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
WARMUP=${BENCH_WARMUP:-3}
GATEWAY_WARMUP=${BENCH_GATEWAY_WARMUP:-10}
# Fixed by the benchmark's definition: "stream (32 tokens)".
TOKENS=32
# wrk counts a request slower than this as a socket timeout error (which fails the run).
WRK_TIMEOUT=5s
GATEWAY_HEAP=512m
DESIGN_TARGET=0.90
# CPU (% of one core) that processes other than ours may use during a measured run before the run is flagged as
# disturbed: the machine has only 2 cores, and a build running beside the benchmark changes every number.
OTHER_CPU_LIMIT=15

MODES=(non-stream stream-32)
TARGETS=(direct nginx gateway)

WORK_DIR=""
STARTED_PIDS=()   # every process this script started (and nginx's workers); killed on exit
WRK_PID=""        # the wrk run in progress, if any
AUTH_ARGS=()      # -H "$BENCH_AUTH_HEADER" when set
FAILURES=()       # measured runs that had errors (non-2xx, socket errors)
DISTURBED=()      # measured runs during which other processes used noticeable CPU

# Results, keyed by "<mode>/<target>".
declare -A RPS P50 P99 NON2XX SOCKERR CPU_PROXY CPU_UPSTREAM CPU_WRK CPU_OTHER US_PER_REQ

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# Setup: settings, tools, jar, ports, cleanup
# ---------------------------------------------------------------------------------------------------------------

check_settings() {
    local name value
    for name in DURATION CONNECTIONS WARMUP GATEWAY_WARMUP; do
        value=${!name}
        [[ $value =~ ^[0-9]+$ ]] || die "$name must be a whole number, got '$value'"
    done
    ((DURATION > 0 && DURATION <= 600)) || die "BENCH_DURATION must be 1..600 s, got $DURATION"
    ((WARMUP <= 600 && GATEWAY_WARMUP <= 600)) || die "warm-ups must be at most 600 s"
    ((CONNECTIONS > 0 && CONNECTIONS <= 1000)) || die "BENCH_CONNECTIONS must be 1..1000, got $CONNECTIONS"
    if [[ -n ${BENCH_AUTH_HEADER:-} ]]; then
        [[ $BENCH_AUTH_HEADER == *:* ]] || die "BENCH_AUTH_HEADER must look like 'Name: value'"
        AUTH_ARGS=(-H "$BENCH_AUTH_HEADER")
    fi
}

# Installs the Debian packages that are missing (apt-get update only once, and only if something is missing).
ensure_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v nginx >/dev/null || missing+=(nginx-light)
    command -v curl >/dev/null || missing+=(curl)
    command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
    command -v ps >/dev/null || missing+=(procps)
    if ((${#missing[@]})); then
        log "installing ${missing[*]} (apt-get)"
        local sudo=()
        ((EUID == 0)) || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq
        # Debian's nginx package may start a system nginx on port 80 where services can start; this benchmark
        # never uses it (its own instances run from their own configs under a temp dir).
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    local tool
    for tool in wrk nginx curl java ps; do
        command -v "$tool" >/dev/null || die "$tool is required and could not be installed"
    done
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

# Prints N distinct free loopback TCP ports. Python holds all sockets open at once, so the ports differ; the
# fallback picks random high ports that `ss` does not show as listening.
free_ports() {
    local n=$1
    if command -v python3 >/dev/null; then
        python3 - "$n" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
    else
        local ports=() p
        while ((${#ports[@]} < n)); do
            p=$((20000 + RANDOM % 40000))
            [[ " ${ports[*]} " == *" $p "* ]] && continue
            [[ -z $(ss -Htln "sport = :$p") ]] && ports+=("$p")
        done
        echo "${ports[*]}"
    fi
}

# Kills everything this script started: TERM first (nginx shuts down fast, the JVM runs its shutdown hooks),
# KILL after 10 s. nginx workers are listed too, so none survives a master that had to be killed.
cleanup() {
    local rc=$? pid i alive
    set +e
    trap - EXIT INT TERM
    [[ -n $WRK_PID ]] && kill -TERM "$WRK_PID" 2>/dev/null
    for pid in "${STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for ((i = 0; i < 100; i++)); do
        alive=0
        for pid in "${STARTED_PIDS[@]}" $WRK_PID; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${STARTED_PIDS[@]}" $WRK_PID; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    if [[ -n $WORK_DIR && -d $WORK_DIR ]]; then
        if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then
            log "kept $WORK_DIR"
        else
            rm -rf "$WORK_DIR"
        fi
    fi
    exit "$rc"
}

# ---------------------------------------------------------------------------------------------------------------
# The fake upstream's canned vLLM bodies
# ---------------------------------------------------------------------------------------------------------------

CHUNK_HEAD='"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"bench-model"'

# One SSE event of a vLLM stream: sse_chunk <delta-json> <finish-json-tail>
sse_chunk() {
    printf 'data: {%s,"choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}]}\n\n' \
        "$CHUNK_HEAD" "$1" "$2"
}

# The text the fake model "generates": TOKENS tokens, each with its leading space as a tokenizer would give it.
token() { printf ' tok%02d' "$1"; }
answer_text() {
    local i
    for ((i = 1; i <= TOKENS; i++)); do token "$i"; done
}

# Writes the expected bodies (the exact bytes the upstream must send) into $WORK_DIR/expected-*.
write_expected_bodies() {
    local i
    {
        sse_chunk '{"role":"assistant","content":""}' 'null'
        for ((i = 1; i <= TOKENS; i++)); do
            sse_chunk "{\"content\":\"$(token "$i")\"}" 'null'
        done
        sse_chunk '{"content":""}' '"stop","stop_reason":null'
        printf 'data: {%s,"choices":[],"usage":{"prompt_tokens":11,"total_tokens":%d,"completion_tokens":%d}}\n\n' \
            "$CHUNK_HEAD" $((11 + TOKENS)) "$TOKENS"
        printf 'data: [DONE]\n\n'
    } >"$WORK_DIR/expected-stream.txt"

    printf '{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":11,"completion_tokens":%d,"total_tokens":%d}}' \
        "$(answer_text)" "$TOKENS" $((11 + TOKENS)) >"$WORK_DIR/expected-json.txt"

    printf '%s' '{"object":"list","data":[{"id":"bench-model","object":"model","created":1,"owned_by":"vllm","root":"bench-model","parent":null,"max_model_len":32768}]}' \
        >"$WORK_DIR/expected-models.txt"

    ! grep -q '[$]' "$WORK_DIR"/expected-*.txt || die "a canned body contains '\$', which nginx would read as a variable"
}

# Escapes text for a single-quoted nginx string: \ and ' get a backslash, newlines become the two characters \n
# (nginx's parser turns them back into newlines). nginx has no escape for '$' (it starts a variable), so
# write_expected_bodies makes sure the bodies have none.
nginx_escape() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\'/\\\'}
    s=${s//$'\n'/\\n}
    printf '%s' "$s"
}

# Prints nginx directives that answer with the file's bytes: `set $<var>N '...';` for pieces of the body, then
# `return 200 '$<var>0$<var>1...';`. The split is needed because nginx refuses a single config token longer than
# 4 KB (its config buffer), and the stream body is larger. Pieces end on line boundaries.
nginx_return_file() {
    local file=$1 var=$2 piece="" line escaped n=0 refs=""
    local -a pieces=()
    while IFS= read -r line || [[ -n $line ]]; do
        escaped="$(nginx_escape "$line")\\n"
        if ((${#piece} + ${#escaped} > 3000)) && [[ -n $piece ]]; then
            pieces+=("$piece")
            piece=""
        fi
        piece+=$escaped
    done <"$file"
    # The loop added \n after every line; drop the last one if the file does not end with a newline.
    [[ -z $(tail -c1 "$file") ]] || piece=${piece%\\n}
    [[ -n $piece ]] && pieces+=("$piece")
    for piece in "${pieces[@]}"; do
        printf "            set \$%s%d '%s';\n" "$var" "$n" "$piece"
        refs+="\$$var$n"
        n=$((n + 1))
    done
    printf "            return 200 '%s';\n" "$refs"
}

# ---------------------------------------------------------------------------------------------------------------
# nginx configs (upstream and reference proxy)
# ---------------------------------------------------------------------------------------------------------------

# Settings both nginx instances share. Temp paths point into the instance's own prefix because Debian's nginx
# defaults them to /var/lib/nginx. keepalive_requests is raised so that neither nginx closes a wrk or proxy
# connection every 1000 requests (the default), which the gateway never does: reconnects would skew the comparison.
nginx_common_http() {
    cat <<EOF
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $1/client_body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
EOF
}

write_upstream_conf() {
    local dir=$WORK_DIR/upstream sse json models
    mkdir -p "$dir"
    # Built here rather than inside the heredoc, where a failure would go unnoticed.
    sse=$(nginx_return_file "$WORK_DIR/expected-stream.txt" sse)
    json=$(nginx_return_file "$WORK_DIR/expected-json.txt" json)
    models=$(nginx_return_file "$WORK_DIR/expected-models.txt" models)
    # POST answers via `return`: nginx discards the request body and sends the canned bytes with Content-Length.
    cat >"$dir/nginx.conf" <<EOF
# Fake vLLM for bench/run.sh (generated). One worker: the backend is meant to be cheap, not fast at any cost.
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
$(nginx_common_http "$dir")
    server {
        listen 127.0.0.1:$UP_PORT;

        location = /stream/v1/chat/completions {
            default_type text/event-stream;
$sse
        }
        location = /json/v1/chat/completions {
            default_type application/json;
$json
        }
        # What a gateway may probe on a vLLM server: /health (empty 200) and /v1/models.
        location ~ ^/(stream|json)/health\$ {
            return 200 '';
        }
        location ~ ^/(stream|json)/v1/models\$ {
            default_type application/json;
$models
        }
        location / {
            return 404;
        }
    }
}
EOF
}

write_proxy_conf() {
    local dir=$WORK_DIR/nginx
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
# Reference proxy for bench/run.sh (generated): how nginx relays SSE without buffering.
daemon off;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
$(nginx_common_http "$dir")
    upstream fake_vllm {
        server 127.0.0.1:$UP_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        # Stream each upstream read to the client at once, over pooled HTTP/1.1 upstream connections.
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        # proxy_pass without a URI: the path is forwarded unchanged.
        location /stream/ {
            proxy_pass http://fake_vllm;
        }
        location /json/ {
            proxy_pass http://fake_vllm;
        }
    }
}
EOF
}

# ---------------------------------------------------------------------------------------------------------------
# Starting the servers
# ---------------------------------------------------------------------------------------------------------------

# The end of a server's log without Java stack frames, which would push the actual message out of view.
show_log() {
    grep -v -E '^[[:space:]]+(at |\.\.\. [0-9]+ more)' "$1" | tail -n 30 >&2 || true
}

# Polls a URL until it answers 200. wait_http_ok <url> <seconds> <pid-that-must-stay-alive> <log-to-show>
wait_http_ok() {
    local url=$1 seconds=$2 pid=$3 logfile=$4 deadline code
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log "$logfile"
            die "process $pid exited before $url answered"
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${AUTH_ARGS[@]}" "$url" || true)
        [[ $code == 200 ]] && return 0
        if [[ $code == 401 || $code == 403 ]]; then
            die "$url answered $code: the gateway wants a client key (set BENCH_AUTH_HEADER, and GATEWAY_JAVA_OPTS to configure the key or turn auth off; see bench/README.md)"
        fi
        sleep 0.2
    done
    show_log "$logfile"
    die "$url did not answer 200 within ${seconds}s (last status: ${code:-none})"
}

# Starts an nginx instance in the foreground of a background job (daemon off), so $! is its master.
# start_nginx <name> <health-url>
start_nginx() {
    local name=$1 url=$2 dir=$WORK_DIR/$1 pid worker
    nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/stderr.log" \
        || { cat "$dir/stderr.log" >&2; die "nginx config for $name is invalid ($dir/nginx.conf)"; }
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stderr.log" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    wait_http_ok "$url" 10 "$pid" "$dir/stderr.log"
    local pids=$pid
    for worker in $(ps -o pid= --ppid "$pid"); do
        STARTED_PIDS+=("$worker")
        pids+=" $worker"
    done
    # UPSTREAM_PIDS / NGINX_PIDS: master and workers, for the CPU accounting.
    declare -g "${name^^}_PIDS=$pids"
    log "$name: nginx master $pid on 127.0.0.1:$(port_of "$name")"
}

port_of() {
    case $1 in
        upstream) echo "$UP_PORT" ;;
        nginx) echo "$NGINX_PORT" ;;
        gateway) echo "$GW_PORT" ;;
    esac
}

# The gateway in its production profile, configured entirely by system properties: two routes, one per
# upstream location. The deployment variables (RUNPOD_*, VASTAI_*, FALLBACK_PROVIDER, MODEL) are removed from its
# environment so that a developer's shell cannot add real backends to the benchmark.
start_gateway() {
    local -a env_unset=() extra=() props
    local var
    for var in $(compgen -e); do
        case $var in
            RUNPOD_* | VASTAI_* | FALLBACK_PROVIDER | MODEL | GATEWAY_JAR | GATEWAY_JAVA_OPTS) env_unset+=(-u "$var") ;;
        esac
    done
    read -r -a extra <<<"${GATEWAY_JAVA_OPTS:-}"
    props=(
        -Xms"$GATEWAY_HEAP" -Xmx"$GATEWAY_HEAP"
        -Dquarkus.http.host=127.0.0.1
        -Dquarkus.http.port="$GW_PORT"
        # Health and metrics (unused here) on a free loopback port, never a fixed 9000 another process may hold.
        -Dquarkus.management.host=127.0.0.1
        -Dquarkus.management.port=0
        -Dquarkus.log.level=WARN
        -Dgateway.backends.bench-stream.base-url="http://127.0.0.1:$UP_PORT/stream/v1"
        -Dgateway.backends.bench-stream.model=bench-model
        -Dgateway.backends.bench-json.base-url="http://127.0.0.1:$UP_PORT/json/v1"
        -Dgateway.backends.bench-json.model=bench-model
        -Dgateway.routes.bench-stream.models=bench-stream
        -Dgateway.routes.bench-stream.backends=bench-stream
        -Dgateway.routes.bench-json.models=bench-json
        -Dgateway.routes.bench-json.backends=bench-json
    )
    # GATEWAY_JAVA_OPTS come last so they can override any of the above (Java keeps the last -D of a name).
    env "${env_unset[@]}" java "${props[@]}" "${extra[@]}" -jar "$GATEWAY_JAR" >"$WORK_DIR/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    STARTED_PIDS+=("$GATEWAY_PID")
    local deadline=$((SECONDS + 60)) code=""
    wait_http_ok "http://127.0.0.1:$GW_PORT/v1/models" 60 "$GATEWAY_PID" "$WORK_DIR/gateway.log"
    # Listening is not the same as routing: a gateway that health-checks its backends may refuse requests until
    # its first probe. Wait (within the same 60 s) until a real chat completion goes through.
    while ((SECONDS < deadline)); do
        code=$(curl_post gateway non-stream "$WORK_DIR/ready")
        [[ $code == 200 ]] && break
        kill -0 "$GATEWAY_PID" 2>/dev/null || break
        sleep 0.5
    done
    if [[ $code != 200 ]]; then
        show_log "$WORK_DIR/gateway.log"
        die "the gateway did not answer a chat completion with 200 within 60 s (last: HTTP $code $(head -c 300 "$WORK_DIR/ready.body" 2>/dev/null))"
    fi
    GATEWAY_PIDS=$GATEWAY_PID
    log "gateway: pid $GATEWAY_PID on 127.0.0.1:$GW_PORT ($GATEWAY_JAR)"
}

# Says which of our servers is gone, how it ended (exit status; 128+N = killed by signal N) and what it logged.
report_dead_servers() {
    local name pid logfile status
    for name in upstream nginx gateway; do
        case $name in
            upstream) pid=${UPSTREAM_PIDS%% *} logfile=$WORK_DIR/upstream/error.log ;;
            nginx) pid=${NGINX_PIDS%% *} logfile=$WORK_DIR/nginx/error.log ;;
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

# ---------------------------------------------------------------------------------------------------------------
# Requests: bodies, wrk scripts, URLs
# ---------------------------------------------------------------------------------------------------------------

# The model a target's clients send: the backend's own id when talking to vLLM (directly or through nginx), the
# gateway's route name when talking to the gateway.
model_for() { # model_for <target> <mode>
    if [[ $1 == gateway ]]; then
        [[ $2 == non-stream ]] && echo bench-json || echo bench-stream
    else
        echo bench-model
    fi
}

url_for() { # url_for <target> <mode>
    local prefix
    [[ $2 == non-stream ]] && prefix=/json || prefix=/stream
    case $1 in
        direct) echo "http://127.0.0.1:$UP_PORT$prefix/v1/chat/completions" ;;
        nginx) echo "http://127.0.0.1:$NGINX_PORT$prefix/v1/chat/completions" ;;
        gateway) echo "http://127.0.0.1:$GW_PORT/v1/chat/completions" ;;
    esac
}

# Request body file for a target and mode (written once, used by both curl and wrk so they send the same bytes).
request_file() { # request_file <target> <mode>
    local model file stream=""
    model=$(model_for "$1" "$2")
    [[ $2 == stream-32 ]] && stream=',"stream":true'
    file="$WORK_DIR/request-$1-$2.json"
    if [[ ! -f $file ]]; then
        printf '{"model":"%s","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64%s}' \
            "$model" "$stream" >"$file"
    fi
    echo "$file"
}

lua_file() { # lua_file <target> <mode>
    local body lua
    body=$(request_file "$1" "$2")
    lua="$WORK_DIR/wrk-$1-$2.lua"
    if [[ ! -f $lua ]]; then
        cat >"$lua" <<EOF
-- Generated by bench/run.sh: POST the same JSON body on every request.
local f = assert(io.open("$body", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF
    fi
    echo "$lua"
}

# ---------------------------------------------------------------------------------------------------------------
# Checking the six combinations once with curl
# ---------------------------------------------------------------------------------------------------------------

# curl_post <target> <mode> <out-prefix>: writes <out-prefix>.body and .headers, prints the status code.
curl_post() {
    curl -sS --max-time 10 -o "$3.body" -D "$3.headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' "${AUTH_ARGS[@]}" \
        --data-binary @"$(request_file "$1" "$2")" "$(url_for "$1" "$2")" || echo "curl-failed"
}

content_type_of() { grep -i '^content-type:' "$1" | head -n1 | cut -d: -f2- | tr -d ' \r'; }

# Direct and nginx must deliver the upstream's bytes unchanged. The gateway must deliver the same answer:
# 200, the right content type, all TOKENS tokens in order, data: [DONE] at the end, and no usage chunk on streams
# (the client did not ask for it; the gateway asks upstream for it and removes it).
verify_all() {
    local target mode out code problems=() ctype expect_type tokens text
    for mode in "${MODES[@]}"; do
        for target in "${TARGETS[@]}"; do
            out="$WORK_DIR/check-$target-$mode"
            code=$(curl_post "$target" "$mode" "$out")
            if [[ $code != 200 ]]; then
                problems+=("$target $mode: HTTP $code: $(head -c 300 "$out.body" 2>/dev/null)")
                continue
            fi
            [[ $mode == stream-32 ]] && expect_type=text/event-stream || expect_type=application/json
            ctype=$(content_type_of "$out.headers")
            [[ ${ctype%%;*} == "$expect_type" ]] || problems+=("$target $mode: content-type '$ctype'")
            if [[ $target != gateway ]]; then
                local expected="$WORK_DIR/expected-json.txt"
                [[ $mode == stream-32 ]] && expected="$WORK_DIR/expected-stream.txt"
                cmp -s "$expected" "$out.body" || problems+=("$target $mode: body differs from the canned body")
                continue
            fi
            if [[ $mode == stream-32 ]]; then
                tokens=$(grep -c '"delta":{"content":"[^"]' "$out.body" || true)
                text=$(grep -o '"delta":{"content":"[^"]*"' "$out.body" | sed 's/.*"content":"//; s/"$//' | tr -d '\n')
                ((tokens == TOKENS)) || problems+=("gateway stream: $tokens content chunks, expected $TOKENS")
                [[ $text == "$(answer_text)" ]] || problems+=("gateway stream: text '$text' is not the upstream's")
                [[ $(tail -c 14 "$out.body") == 'data: [DONE]' ]] \
                    || problems+=("gateway stream: does not end with 'data: [DONE]' and a blank line")
                ! grep -q '"usage"' "$out.body" || problems+=("gateway stream: has a usage chunk the client did not ask for")
            else
                grep -q '"object":"chat.completion"' "$out.body" \
                    && grep -qF "\"content\":\"$(answer_text)\"" "$out.body" \
                    || problems+=("gateway non-stream: body is not the upstream's answer: $(head -c 300 "$out.body")")
            fi
        done
    done
    if ((${#problems[@]})); then
        printf '[bench] check failed: %s\n' "${problems[@]}" >&2
        die "the targets do not answer as expected; nothing was measured"
    fi
    log "checked: all 6 target x mode combinations answer 200 with the expected bodies"
}

# ---------------------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------------------

# CPU clock ticks (user + system) used so far by the given processes, threads included.
cpu_ticks() {
    local total=0 pid stat
    local -a f
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a f <<<"${stat##*) }" # fields after "pid (comm) ": state is f[0], utime f[11], stime f[12]
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}

# Sets CHILDREN_CPU to the CPU seconds (user + system) of this shell's reaped children (wrk, via timeout), from
# the `times` builtin. It must not run in a command substitution: a subshell's children start from zero.
children_cpu_seconds() {
    times >"$WORK_DIR/times"
    CHILDREN_CPU=$(sed -n 2p "$WORK_DIR/times" | awk '{
        s = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
        printf "%.3f", s }')
}

# run_wrk <out-file> <seconds> <target> <mode>. Runs in the background so that the exit trap can stop it; the
# timeout only guards against a wrk that never ends.
run_wrk() {
    local out=$1 seconds=$2 rc=0
    timeout $((seconds + 60)) wrk --latency -t1 -c"$CONNECTIONS" -d"${seconds}s" --timeout "$WRK_TIMEOUT" \
        -s "$(lua_file "$3" "$4")" "${AUTH_ARGS[@]}" "$(url_for "$3" "$4")" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    if ((rc != 0)) || ! grep -q '^Requests/sec:' "$out"; then
        cat "$out" >&2
        report_dead_servers
        die "wrk failed against $3 ($4), exit code $rc"
    fi
}

# Reads a wrk --latency report: prints "rps p50_ms p99_ms non2xx socket_errors".
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return v * 0.001
            if (v ~ /ms$/) return v * 1
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            if (v ~ /h$/) return v * 3600000
            return v * 1
        }
        /^Requests\/sec:/ { rps = $2 }
        /^ +50% / { p50 = ms($2) }
        /^ +99% / { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { gsub(/,/, ""); sockerr = $4 + $6 + $8 + $10 }
        END { printf "%s %.3f %.3f %d %d\n", rps, p50, p99, non2xx, sockerr }
    ' "$1"
}

# Busy CPU ticks of the whole machine so far (every state but idle and iowait), from /proc/stat.
machine_busy_ticks() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# Warns when something else is already using the CPU: the benchmark needs the machine to itself.
check_machine_quiet() {
    local b0 b1 pct
    b0=$(machine_busy_ticks)
    sleep 2
    b1=$(machine_busy_ticks)
    pct=$(cpu_percent $((b1 - b0)) 2)
    if ((pct > OTHER_CPU_LIMIT)); then
        log "WARNING: the machine is already ${pct}% busy (of one core) before the benchmark starts;"
        log "WARNING: other processes compete for the same $(nproc) cores and will lower every number"
    fi
}

# Busy share of one core, in percent, for a tick delta over a wall-clock interval.
cpu_percent() { awk -v t="$1" -v hz="$CLK_TCK" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? t / hz / s * 100 : 0) }'; }

# measure <mode> <target>: warm-up (discarded), then the measured run with CPU accounting.
measure() {
    local mode=$1 target=$2 key="$1/$2" warm out rps p50 p99 non2xx sockerr
    local proxy_pids="" up0 up1 px0 px1 own0 own1 wrk0 wrk1 m0 m1 t0 t1 elapsed
    [[ $target == gateway ]] && warm=$GATEWAY_WARMUP || warm=$WARMUP
    case $target in
        nginx) proxy_pids=$NGINX_PIDS ;;
        gateway) proxy_pids=$GATEWAY_PIDS ;;
    esac

    if ((warm > 0)); then
        log "$mode $target: warm-up ${warm}s"
        out="$WORK_DIR/wrk-warmup-$target-$mode.txt"
        run_wrk "$out" "$warm" "$target" "$mode"
        read -r rps p50 p99 non2xx sockerr < <(parse_wrk "$out")
        log "$mode $target: warm-up gave $rps req/s, p50 $p50 ms, p99 $p99 ms (discarded)"
        ((non2xx + sockerr == 0)) || log "WARNING: warm-up of $target $mode had $non2xx non-2xx and $sockerr socket errors"
    fi

    log "$mode $target: measuring ${DURATION}s, $CONNECTIONS connections"
    out="$WORK_DIR/wrk-$target-$mode.txt"
    # shellcheck disable=SC2086 # the pid lists are meant to split
    up0=$(cpu_ticks $UPSTREAM_PIDS) px0=$(cpu_ticks $proxy_pids) own0=$(cpu_ticks $OWN_PIDS) m0=$(machine_busy_ticks)
    children_cpu_seconds
    wrk0=$CHILDREN_CPU
    t0=$(date +%s.%N)
    run_wrk "$out" "$DURATION" "$target" "$mode"
    t1=$(date +%s.%N)
    children_cpu_seconds
    wrk1=$CHILDREN_CPU
    # shellcheck disable=SC2086
    up1=$(cpu_ticks $UPSTREAM_PIDS) px1=$(cpu_ticks $proxy_pids) own1=$(cpu_ticks $OWN_PIDS) m1=$(machine_busy_ticks)
    elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')

    read -r rps p50 p99 non2xx sockerr < <(parse_wrk "$out")
    RPS[$key]=$rps P50[$key]=$p50 P99[$key]=$p99 NON2XX[$key]=$non2xx SOCKERR[$key]=$sockerr
    CPU_UPSTREAM[$key]=$(cpu_percent $((up1 - up0)) "$elapsed")
    CPU_PROXY[$key]=- US_PER_REQ[$key]=-
    if [[ -n $proxy_pids ]]; then
        CPU_PROXY[$key]=$(cpu_percent $((px1 - px0)) "$elapsed")
        # The proxy's CPU time per request: what it costs, even when other processes take cores away from it.
        US_PER_REQ[$key]=$(awk -v t=$((px1 - px0)) -v hz="$CLK_TCK" -v r="$rps" -v s="$elapsed" \
            'BEGIN { printf "%.1f", (r > 0 ? t / hz / (r * s) * 1e6 : 0) }')
    fi
    CPU_WRK[$key]=$(awk -v a="$wrk0" -v b="$wrk1" -v s="$elapsed" 'BEGIN { printf "%.0f", (b - a) / s * 100 }')
    # Everything the machine did besides the servers we started (busy or idle) and wrk: other programs, and kernel
    # threads (small).
    CPU_OTHER[$key]=$(awk -v m="$(cpu_percent $((m1 - m0)) "$elapsed")" -v o="$(cpu_percent $((own1 - own0)) "$elapsed")" \
        -v w="${CPU_WRK[$key]}" 'BEGIN { x = m - o - w; printf "%.0f", (x > 0 ? x : 0) }')
    if ((CPU_OTHER[$key] > OTHER_CPU_LIMIT)); then
        DISTURBED+=("$mode $target: other processes used ${CPU_OTHER[$key]}% of a core")
        log "WARNING: other processes used ${CPU_OTHER[$key]}% of a core during this run: its numbers are disturbed"
        log "WARNING: other processes running now: $(ps -eo pid=,pcpu=,comm= --sort=-pcpu \
            | awk -v own=" $OWN_PIDS $$ " 'index(own, " " $1 " ") == 0 && $2 > 1 { printf "%s%s %s", sep, $1, $3; sep = ", " }
                END { if (sep == "") printf "none any more (they ended)" }')"
    fi
    if ((non2xx + sockerr > 0)); then
        FAILURES+=("$mode $target: $non2xx non-2xx responses, $sockerr socket errors (see wrk output above)")
        printf '[bench] ERROR: %s %s had %s non-2xx responses and %s socket errors:\n' \
            "$mode" "$target" "$non2xx" "$sockerr" >&2
        cat "$out" >&2
    fi
    log "$mode $target: $rps req/s, p50 $p50 ms, p99 $p99 ms"
}

# ---------------------------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

# print_tables <style>: "text" for the terminal, "md" for the results file.
print_tables() {
    local style=$1 mode target key errors tp p50r p99r cpur verdict
    if [[ $style == md ]]; then
        echo "| mode | target | req/s | p50 ms | p99 ms | CPU proxy | proxy CPU us/req | CPU upstream | CPU wrk | CPU other | errors |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    else
        printf '%-11s %-8s %10s %8s %8s %10s %8s %13s %8s %10s %7s\n' \
            mode target req/s "p50 ms" "p99 ms" "CPU proxy" "us/req" "CPU upstream" "CPU wrk" "CPU other" errors
    fi
    for mode in "${MODES[@]}"; do
        for target in "${TARGETS[@]}"; do
            key="$mode/$target"
            errors=$((NON2XX[$key] + SOCKERR[$key]))
            local px=${CPU_PROXY[$key]}
            [[ $px == - ]] || px="$px%"
            if [[ $style == md ]]; then
                printf '| %s | %s | %s | %s | %s | %s | %s | %s%% | %s%% | %s%% | %s |\n' "$mode" "$target" "${RPS[$key]}" \
                    "${P50[$key]}" "${P99[$key]}" "$px" "${US_PER_REQ[$key]}" "${CPU_UPSTREAM[$key]}" "${CPU_WRK[$key]}" \
                    "${CPU_OTHER[$key]}" "$errors"
            else
                printf '%-11s %-8s %10s %8s %8s %10s %8s %13s %8s %10s %7s\n' "$mode" "$target" "${RPS[$key]}" \
                    "${P50[$key]}" "${P99[$key]}" "$px" "${US_PER_REQ[$key]}" "${CPU_UPSTREAM[$key]}%" "${CPU_WRK[$key]}%" \
                    "${CPU_OTHER[$key]}%" "$errors"
            fi
        done
    done
    echo
    if [[ $style == md ]]; then
        echo "| mode | gateway/nginx req/s | gateway/nginx p50 | gateway/nginx p99 | gateway/nginx CPU per req | nginx/direct req/s | gateway/direct req/s | target ${DESIGN_TARGET}x |"
        echo "|---|---:|---:|---:|---:|---:|---:|---|"
    else
        printf '%-11s %20s %18s %18s %16s %19s %21s  %s\n' mode "gateway/nginx req/s" "gateway/nginx p50" \
            "gateway/nginx p99" "CPU per request" "nginx/direct req/s" "gateway/direct req/s" "target ${DESIGN_TARGET}x"
    fi
    for mode in "${MODES[@]}"; do
        tp=$(ratio "${RPS[$mode/gateway]}" "${RPS[$mode/nginx]}")
        p50r=$(ratio "${P50[$mode/gateway]}" "${P50[$mode/nginx]}")
        p99r=$(ratio "${P99[$mode/gateway]}" "${P99[$mode/nginx]}")
        cpur=$(ratio "${US_PER_REQ[$mode/gateway]}" "${US_PER_REQ[$mode/nginx]}")
        verdict=$(awk -v r="$tp" -v t="$DESIGN_TARGET" 'BEGIN { print (r + 0 >= t ? "met" : "missed") }')
        if [[ $style == md ]]; then
            printf '| %s | %sx | %sx | %sx | %sx | %sx | %sx | %s |\n' "$mode" "$tp" "$p50r" "$p99r" "$cpur" \
                "$(ratio "${RPS[$mode/nginx]}" "${RPS[$mode/direct]}")" \
                "$(ratio "${RPS[$mode/gateway]}" "${RPS[$mode/direct]}")" "$verdict"
        else
            printf '%-11s %19sx %17sx %17sx %15sx %18sx %20sx  %s\n' "$mode" "$tp" "$p50r" "$p99r" "$cpur" \
                "$(ratio "${RPS[$mode/nginx]}" "${RPS[$mode/direct]}")" \
                "$(ratio "${RPS[$mode/gateway]}" "${RPS[$mode/direct]}")" "$verdict"
        fi
    done
}

print_json() {
    local mode target key first=1
    printf '{\n  "date": "%s",\n  "duration_s": %d,\n  "connections": %d,\n  "warmup_s": %d,\n  "gateway_warmup_s": %d,\n  "tokens": %d,\n  "results": [\n' \
        "$STARTED_AT" "$DURATION" "$CONNECTIONS" "$WARMUP" "$GATEWAY_WARMUP" "$TOKENS"
    for mode in "${MODES[@]}"; do
        for target in "${TARGETS[@]}"; do
            key="$mode/$target"
            ((first)) || printf ',\n'
            first=0
            printf '    {"mode": "%s", "target": "%s", "rps": %s, "p50_ms": %s, "p99_ms": %s, "non_2xx": %d, "socket_errors": %d, "cpu_proxy_pct": %s, "proxy_cpu_us_per_req": %s, "cpu_upstream_pct": %s, "cpu_wrk_pct": %s, "cpu_other_pct": %s}' \
                "$mode" "$target" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "${NON2XX[$key]}" "${SOCKERR[$key]}" \
                "$([[ ${CPU_PROXY[$key]} == - ]] && echo null || echo "${CPU_PROXY[$key]}")" \
                "$([[ ${US_PER_REQ[$key]} == - ]] && echo null || echo "${US_PER_REQ[$key]}")" \
                "${CPU_UPSTREAM[$key]}" "${CPU_WRK[$key]}" "${CPU_OTHER[$key]}"
        done
    done
    printf '\n  ],\n  "ratios_gateway_over_nginx": {'
    first=1
    for mode in "${MODES[@]}"; do
        ((first)) || printf ', '
        first=0
        printf '"%s": {"rps": %s, "p50": %s, "p99": %s, "cpu_per_req": %s}' "$mode" \
            "$(ratio "${RPS[$mode/gateway]}" "${RPS[$mode/nginx]}")" \
            "$(ratio "${P50[$mode/gateway]}" "${P50[$mode/nginx]}")" \
            "$(ratio "${P99[$mode/gateway]}" "${P99[$mode/nginx]}")" \
            "$(ratio "${US_PER_REQ[$mode/gateway]}" "${US_PER_REQ[$mode/nginx]}")"
    done
    printf '}\n}\n'
}

machine_summary() {
    local cpu
    cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)
    echo "- date: $STARTED_AT"
    echo "- machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
    echo "- tools: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), $(java -version 2>&1 | head -n1)"
    # The commit of the checkout the jar sits in (GATEWAY_JAR may come from another copy of the repo).
    echo "- gateway: $GATEWAY_JAR (commit $(git -C "$(dirname "$GATEWAY_JAR")" rev-parse --short HEAD 2>/dev/null || echo unknown)), -Xmx$GATEWAY_HEAP ${GATEWAY_JAVA_OPTS:-}"
    echo "- wrk: -t1 -c$CONNECTIONS -d${DURATION}s --latency; warm-up ${WARMUP}s (direct, nginx), ${GATEWAY_WARMUP}s (gateway), discarded"
    echo "- CPU columns: share of one core during the measured run (the machine has $(nproc) cores in all, shared by every process);"
    echo "  proxy = nginx master and workers or the gateway JVM, other = processes this script did not start (and kernel threads)"
}

write_results() {
    local stamp=$1 md json
    mkdir -p "$RESULTS_DIR"
    md="$RESULTS_DIR/$stamp.md"
    json="$RESULTS_DIR/$stamp.json"
    print_json >"$json"
    {
        echo "# Gateway benchmark $STARTED_AT"
        echo
        machine_summary
        echo
        print_tables md
        echo
        if ((${#FAILURES[@]})); then
            echo "**Errors:**"
            printf -- '- %s\n' "${FAILURES[@]}"
            echo
        fi
        if ((${#DISTURBED[@]})); then
            echo "**Disturbed** (other processes competed for the CPU; these numbers are low):"
            printf -- '- %s\n' "${DISTURBED[@]}"
            echo
        fi
        echo '```json'
        cat "$json"
        echo '```'
    } >"$md"
    log "results written to $md and $json"
}

# ---------------------------------------------------------------------------------------------------------------

main() {
    check_settings
    ensure_tools
    resolve_gateway_jar
    CLK_TCK=$(getconf CLK_TCK)
    STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    local stamp
    stamp=$(date -u +%Y%m%dT%H%M%SZ)

    WORK_DIR=$(mktemp -d /tmp/gateway-bench.XXXXXX)
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    check_machine_quiet
    read -r UP_PORT NGINX_PORT GW_PORT <<<"$(free_ports 3)"
    write_expected_bodies
    write_upstream_conf
    write_proxy_conf

    start_nginx upstream "http://127.0.0.1:$UP_PORT/stream/health"
    start_nginx nginx "http://127.0.0.1:$NGINX_PORT/stream/health"
    start_gateway
    OWN_PIDS="$UPSTREAM_PIDS $NGINX_PIDS $GATEWAY_PIDS"
    verify_all

    local mode target
    for mode in "${MODES[@]}"; do
        for target in "${TARGETS[@]}"; do
            measure "$mode" "$target"
        done
    done

    echo
    echo "Gateway benchmark, $STARTED_AT: wrk -t1 -c$CONNECTIONS -d${DURATION}s, stream = $TOKENS tokens"
    echo
    print_tables text
    echo
    echo "CPU = share of one core during the measured run; proxy = nginx master+workers or the gateway JVM;"
    echo "us/req = the proxy's CPU time per request (user + system);"
    echo "other = processes this script did not start (and kernel threads). The machine has $(nproc) cores."
    if ((${#DISTURBED[@]})); then
        printf 'WARNING: disturbed, other processes competed for the CPU: %s\n' "${DISTURBED[@]}"
    fi
    write_results "$stamp"

    if ((${#FAILURES[@]})); then
        printf '[bench] FAILED: %s\n' "${FAILURES[@]}" >&2
        exit 1
    fi
}

main "$@"
