# shellcheck shell=bash
# bench/lib/checks.sh: the requests every target is sent, proving the upstream writes one event per write(2), and
# checking each target's answers once before anything is measured.

TOKENS=33 # content chunks of the fake vLLM's answer (bench/floor/.../FakeVllm.java)

# The upstream shape a mode measures: json (whole body), burst (all events at once) or paced (one every PACE_MS).
shape_of() { case $1 in non-stream) echo json ;; *) echo "$1" ;; esac; }

# The model a client sends: the backend's id to the upstream directly, nginx and the floor; the route to the gateway.
model_for() { [[ $1 == gateway ]] && echo "bench-$2" || echo bench-model; }

url_for() { # url_for <target> <shape>
    case $1 in
        direct) echo "http://127.0.0.1:$UP_PORT/$2/v1/chat/completions" ;;
        nginx) echo "http://127.0.0.1:$NGINX_PORT/$2/v1/chat/completions" ;;
        floor) echo "http://127.0.0.1:$FLOOR_PORT/$2/v1/chat/completions" ;;
        gateway) echo "http://127.0.0.1:$GW_PORT/v1/chat/completions" ;;
    esac
}
port_of() { local url; url=$(url_for "$1" json); url=${url#http://127.0.0.1:}; echo "${url%%/*}"; }
path_of() { local url; url=$(url_for "$1" "$2"); echo "/${url#http://127.0.0.1:*/}"; }

# The request body (a file, sent byte for byte by curl, wrk and the low-load client): a short chat request; streams
# ask for the usage chunk as Kilo Code and the OpenAI SDKs do.
request_file() { # request_file <target> <shape>
    local file="$WORK_DIR/request-$1-$2.json" stream=""
    [[ $2 == json ]] || stream=',"stream":true,"stream_options":{"include_usage":true}'
    [[ -f $file ]] || printf '{"model":"%s","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64%s}' \
        "$(model_for "$1" "$2")" "$stream" >"$file"
    echo "$file"
}

# lua_file <target> <shape>: wrk script posting the body with the client key. For paced streams (a low request rate)
# it also counts answers by status and prints "status <code> <count>" lines at the end; not for the fast modes,
# where a Lua call per response would cost wrk time it needs for load.
lua_file() {
    local lua="$WORK_DIR/wrk-$1-$2.lua"
    if [[ ! -f $lua ]]; then
        cat >"$lua" <<LUA
local f = assert(io.open("$(request_file "$1" "$2")", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $CLIENT_KEY"
LUA
        [[ $2 != paced ]] || cat >>"$lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
statuses = {}
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        for code, n in pairs(t:get("statuses")) do total[code] = (total[code] or 0) + n end
    end
    for code, n in pairs(total) do io.write(string.format("status %d %d\n", code, n)) end
end
LUA
    fi
    echo "$lua"
}

# curl_post <target> <shape> <out-prefix>: writes <out-prefix>.body and .headers, prints the status code.
curl_post() {
    curl -sS --max-time 10 -o "$3.body" -D "$3.headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' -H "Authorization: Bearer $CLIENT_KEY" \
        --data-binary @"$(request_file "$1" "$2")" "$(url_for "$1" "$2")" 2>/dev/null || echo "curl-failed"
}

# Proves the upstream writes as vLLM does: strace on the upstream JVM (all threads) while curl sends, each on its own
# connection (so its own upstream thread), 5 burst streams, 5 JSON requests and 1 paced stream. Every stream must
# take 1 write for the head, 1 per event (37: 36 data chunks and [DONE]) and 1 for the last chunk; every event write
# must start with its chunk size and "data: "; the paced events must be at least PACE_MS apart.
verify_upstream_writes() {
    local trace=$WORK_DIR/strace.txt spid i
    strace -f -tt -e trace=write,writev,sendto,sendmsg -p "$UPSTREAM_PID" -o "$trace" 2>"$WORK_DIR/strace.err" &
    spid=$!
    STARTED_PIDS+=("$spid")
    sleep 1.5 # attaching to every thread of a JVM takes a moment
    for i in 1 2 3 4 5; do curl_post direct burst "$WORK_DIR/strace-burst" >/dev/null; done
    for i in 1 2 3 4 5; do curl_post direct json "$WORK_DIR/strace-json" >/dev/null; done
    curl_post direct paced "$WORK_DIR/strace-paced" >/dev/null
    sleep 0.3
    kill -INT "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null || true
    # One line per connection thread, in order of first appearance: "<writes> <event-writes> <min-gap-ms> <median-gap-ms>"
    awk '
        function sec(t, p) { split(t, p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
        $3 ~ /^(write|writev|sendto|sendmsg)\(/ {
            tid = $1
            if (!(tid in n)) order[++threads] = tid
            n[tid]++
            if ($0 ~ /"[0-9a-f]+\\r\\ndata: /) ev[tid]++
            ts[tid, n[tid]] = sec($2)
        }
        END {
            for (i = 1; i <= threads; i++) {
                t = order[i]; m = 0; delete g
                for (k = 3; k <= n[t] - 1; k++) g[++m] = (ts[t, k] - ts[t, k - 1]) * 1000
                for (a = 2; a <= m; a++) { v = g[a]; for (b = a - 1; b >= 1 && g[b] > v; b--) g[b + 1] = g[b]; g[b + 1] = v }
                printf "%d %d %.2f %.2f\n", n[t], ev[t] + 0, (m ? g[1] : 0), (m ? g[int((m + 1) / 2)] : 0)
            }
        }' "$trace" >"$WORK_DIR/strace-summary.txt"
    local -a rows
    mapfile -t rows <"$WORK_DIR/strace-summary.txt"
    ((${#rows[@]} == 11)) || { cat "$WORK_DIR/strace.err" >&2; die "strace saw ${#rows[@]} connection threads writing, expected 11 ($trace)"; }
    local expect=$((TOKENS + 3 + 1 + 2)) events=$((TOKENS + 3 + 1)) w e gmin gmed
    for i in 0 1 2 3 4 10; do
        read -r w e gmin gmed <<<"${rows[i]}"
        ((w == expect && e == events)) || die "upstream stream request $i: $w writes ($e event writes), expected $expect ($events): events are not written one per write"
    done
    for i in 5 6 7 8 9; do
        read -r w e gmin gmed <<<"${rows[i]}"
        ((w == 1)) || die "upstream JSON request: $w writes, expected 1"
    done
    read -r w e gmin gmed <<<"${rows[10]}"
    awk -v g="$gmin" -v p="$PACE_MS" 'BEGIN { exit !(g >= p * 0.9) }' \
        || die "paced stream: events only ${gmin} ms apart, expected ${PACE_MS} ms"
    WRITES_PROOF="strace -f -e trace=write,writev,sendto,sendmsg on the upstream: each burst and paced stream request = $expect write(2) calls (head + $events events, each its own chunk + last chunk), JSON = 1; paced event gaps min ${gmin} ms, median ${gmed} ms (pace ${PACE_MS} ms)"
    log "verified: $WRITES_PROOF"
}

# Every target answers each shape once with the upstream's answer: nginx and the floor byte for byte as the upstream
# sends it; the gateway with the same tokens in order, the usage chunk (asked for) and data: [DONE] at the end.
verify_answers() {
    local target shape out code problems=() ctype expect_type text
    local expect_text=""
    for ((i = 1; i <= TOKENS; i++)); do expect_text+=$(printf ' tok%02d' "$i"); done
    for shape in json burst paced; do
        curl_post direct "$shape" "$WORK_DIR/ref-$shape" >/dev/null
        for target in "${TARGETS[@]}"; do
            out="$WORK_DIR/check-$target-$shape"
            code=$(curl_post "$target" "$shape" "$out")
            if [[ $code != 200 ]]; then
                problems+=("$target $shape: HTTP $code: $(head -c 300 "$out.body" 2>/dev/null)")
                continue
            fi
            [[ $shape == json ]] && expect_type=application/json || expect_type=text/event-stream
            ctype=$(grep -i '^content-type:' "$out.headers" | head -n1 | cut -d: -f2- | tr -d ' \r')
            [[ ${ctype%%;*} == "$expect_type" ]] || problems+=("$target $shape: content-type '$ctype'")
            if [[ $target != gateway ]]; then
                cmp -s "$WORK_DIR/ref-$shape.body" "$out.body" || problems+=("$target $shape: body differs from the upstream's")
            elif [[ $shape == json ]]; then
                grep -q '"object":"chat.completion"' "$out.body" && grep -qF "\"content\":\"$expect_text\"" "$out.body" \
                    || problems+=("gateway json: not the upstream's answer: $(head -c 300 "$out.body")")
            else
                text=$(grep -o '"delta":{"content":"[^"]*"' "$out.body" | sed 's/.*"content":"//; s/"$//' | tr -d '\n')
                [[ $text == "$expect_text" ]] || problems+=("gateway $shape: text '$text' is not the upstream's")
                grep -q '"usage"' "$out.body" || problems+=("gateway $shape: no usage chunk although the client asked for it")
                [[ $(tail -c 14 "$out.body") == 'data: [DONE]' ]] || problems+=("gateway $shape: does not end with data: [DONE]")
            fi
        done
    done
    if ((${#problems[@]})); then
        printf '[bench] check failed: %s\n' "${problems[@]}" >&2
        die "the targets do not answer as expected; nothing was measured"
    fi
    log "checked: ${TARGETS[*]} answer json, burst and paced requests as expected"
}
