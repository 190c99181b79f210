#!/usr/bin/env bash
# Compute fault soak: the packaged gateway's governed compute (/admin/compute) against stand-ins of Vast.ai and RunPod
# that fail at random, with the gateway killed (kill -9) in the middle of provider calls and started again on the same
# state directory. A benchmark run by hand, not a test (CI does not run it). How to use:
#
#   ./mvnw -B -q package -DskipTests        # once (the script builds the jar when it is missing, never when stale)
#   bench/compute-soak.sh                   # 10 minutes; SOAK_MINUTES=3 bench/compute-soak.sh for a short run
#
# It starts, on loopback only, the stand-ins (bench/soak/FakeProviders.java: the Vast.ai and RunPod APIs, one HTTP
# server answering vLLM's /health, /v1/models and chat for every machine they rent, a billing ledger of every machine
# ever created, random faults: creates that create and then answer 500/502 or time out, lists that lag new machines,
# fail (5xx, HTML 404) or answer another shape, single reads answering an HTML 404, stops/starts/destroys that answer
# 500 after acting or without acting, 429 with Retry-After) and the gateway (target/quarkus-app/quarkus-run.jar,
# production profile, GATEWAY_AUTH=none, an admin token, GATEWAY_STATE_DIR in a temp dir, instance TLS off, short
# compute clocks). For SOAK_MINUTES a driver (a bash loop, curl + jq) provisions on both providers at random (small
# estimates in the cost guard's auto and warn tiers; a share over the daily cap, which must be refused), stops, starts,
# destroys (force) and asks for leaks; every SOAK_RESTART_EVERY_S the gateway is killed with kill -9 while the stand-ins
# are answering a create, state change or destroy (a provision or destroy in flight), then started again. Then the
# faults are switched off, the watch gets SOAK_SETTLE_S to settle (longer than the create-lookup window plus a leak
# watch round), and it checks:
#   1. every machine the stand-ins still bill (created, never destroyed; stopped bills storage) is tracked live by the
#      gateway (GET /admin/compute/instances, a state other than destroyed, matched by provider id) or reported as a
#      leak (GET /admin/compute/leaks?refresh=true, kind untracked, matched by provider id);
#   2. the day's committed spend (GET /admin/compute/spend, committed_today_usd) is at least the sum of the estimates
#      (the reservations) of the instances tracked live: nothing the gateway tracks as billing is uncounted;
#   3. no launch label has two machines billing unless all but the one tracked are reported as leaks;
#   4. the gateway never answered 5xx except documented provider errors (codes provider_*, instance_gone,
#      state_not_applied, destroy_not_confirmed, unlock_failed), and every over-cap provision was refused (402/409);
# and prints counts: provisions by answer, faults injected by kind, restarts (and what was in flight; a gateway that
# exits without the soak's kill is counted and restarted on fresh ports), adoptions, leaks reported, and a NOTE of the
# reported leaks the gateway launched itself and then marked destroyed while they still bill (not a check: issue 26
# counts a reported leak as accounted for). The result goes to bench/results/compute-soak-<UTC>.txt too. Exit code 1
# when any check fails. Needs a JDK 17+, curl, jq and ss (iproute2).
#
# Settings (environment):
#   SOAK_MINUTES (10)  SOAK_FAULT_RATE (0.15: per call and fault kind)  SOAK_FAULT_KINDS (all; or a comma list of
#   the kinds in bench/soak/FakeProviders.java, e.g. read_html404)  SOAK_RESTART_EVERY_S (120)
#   SOAK_SETTLE_S (60)  SOAK_SEED (random)  SOAK_KEEP_TMP (0: 1 keeps the temp dir)
#   SOAK_POLL (1s: gateway.compute.poll-interval)  SOAK_LEAK_WATCH (10s: leak-watch-interval)
#   SOAK_LOOKUP_WINDOW (20s: create-lookup-window)  SOAK_READINESS_DEADLINE (60s: readiness-deadline)
#   SOAK_PROVIDER_TIMEOUT (3s: provider-timeout; the stand-ins' create timeout fault answers after 7 s)
#   GATEWAY_JAR (target/quarkus-app/quarkus-run.jar)  GATEWAY_HEAP (384m)  GATEWAY_JAVA_OPTS (extra, applied last)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

MINUTES=${SOAK_MINUTES:-10}
FAULT_RATE=${SOAK_FAULT_RATE:-0.15}
FAULT_KINDS=${SOAK_FAULT_KINDS:-}
RESTART_EVERY_S=${SOAK_RESTART_EVERY_S:-120}
SETTLE_S=${SOAK_SETTLE_S:-60}
SEED=${SOAK_SEED:-$RANDOM$RANDOM}
KEEP_TMP=${SOAK_KEEP_TMP:-0}
POLL=${SOAK_POLL:-1s}
LEAK_WATCH=${SOAK_LEAK_WATCH:-10s}
LOOKUP_WINDOW=${SOAK_LOOKUP_WINDOW:-20s}
READINESS_DEADLINE=${SOAK_READINESS_DEADLINE:-60s}
PROVIDER_TIMEOUT=${SOAK_PROVIDER_TIMEOUT:-3s}
GATEWAY_JAR=${GATEWAY_JAR:-$REPO/target/quarkus-app/quarkus-run.jar}
GATEWAY_HEAP=${GATEWAY_HEAP:-384m}
ADMIN_TOKEN="compute-soak-admin-$(date +%s)-0123456789abcdef0123456789"
VAST_KEY="vast-soak-key-$RANDOM$RANDOM"
RUNPOD_KEY="runpod-soak-key-$RANDOM$RANDOM"
# Documented provider errors the admin API may answer with 5xx (ComputeException codes of ProviderHttp and the
# providers); anything else at 5xx is a gateway failure.
ALLOWED_5XX='^(provider_[a-z_]+|instance_gone|state_not_applied|destroy_not_confirmed|unlock_failed)$'

# free_ports and stop_pids are the other bench scripts' (bench/lib/common.sh); log, die and cleanup are this
# script's own, defined after it.
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"
log() { printf '[compute-soak] %s\n' "$*" >&2; }
die() { printf '[compute-soak] ERROR: %s\n' "$*" >&2; exit 1; }

FAKE_PID=""
GATEWAY_PID=""
DRIVER_PID=""
WORK=""
cleanup() {
    [[ -n $DRIVER_PID ]] && kill "$DRIVER_PID" 2>/dev/null || true
    # shellcheck disable=SC2086 # unset pids vanish rather than become empty arguments
    stop_pids $GATEWAY_PID $FAKE_PID
    if [[ -n $WORK ]]; then
        if [[ $KEEP_TMP == 1 ]]; then
            log "kept $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
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

start_gateway() { # on fresh ports each time (another process may have taken the old ones meanwhile)
    local -a env_unset=() extra=() props
    local var
    read -r GW_PORT MGMT_PORT <<<"$(free_ports 2)"
    echo "$GW_PORT" >"$WORK/gw-port"
    for var in $(compgen -e); do
        case $var in
            RUNPOD_* | VASTAI_* | FALLBACK_PROVIDER | MODEL | GATEWAY_* | QUARKUS_* | REDIS_*) env_unset+=(-u "$var") ;;
        esac
    done
    read -r -a extra <<<"${GATEWAY_JAVA_OPTS:-}"
    props=(
        -Xms"$GATEWAY_HEAP" -Xmx"$GATEWAY_HEAP"
        -Dquarkus.http.host=127.0.0.1
        -Dquarkus.http.port="$GW_PORT"
        -Dquarkus.management.host=127.0.0.1
        -Dquarkus.management.port="$MGMT_PORT"
        '-Dquarkus.log.category."gateway.ledger".level=WARN'
        -Dgateway.telemetry.ledger.path="$WORK/ledger/ledger.jsonl"
        -Dgateway.compute.gateway-id=soak
        -Dgateway.compute.instance-tls=false
        "-Dgateway.compute.runpod-proxy-url-template=http://127.0.0.1:$MACHINE_PORT/{id}"
        -Dgateway.compute.recipes.soak.model=soak-model
        -Dgateway.compute.recipes.soak.route=chat
        -Dgateway.compute.poll-interval="$POLL"
        -Dgateway.compute.leak-watch-interval="$LEAK_WATCH"
        -Dgateway.compute.create-lookup-window="$LOOKUP_WINDOW"
        -Dgateway.compute.readiness-deadline="$READINESS_DEADLINE"
        -Dgateway.compute.provider-timeout="$PROVIDER_TIMEOUT"
        -Dgateway.compute.provider-max-retry-after=2s
        -Dgateway.compute.confirm-delay=300ms
        -Dgateway.compute.recent-traffic=1s
        -Dgateway.health.interval=1s
        -Dgateway.health.timeout=500ms
    )
    env "${env_unset[@]}" GATEWAY_AUTH=none GATEWAY_ADMIN_TOKEN="$ADMIN_TOKEN" GATEWAY_STATE_DIR="$WORK/state" \
        VASTAI_ACCOUNT_KEY="$VAST_KEY" RUNPOD_ACCOUNT_KEY="$RUNPOD_KEY" \
        VASTAI_API_URL="http://127.0.0.1:$VAST_PORT" RUNPOD_API_URL="http://127.0.0.1:$RUNPOD_PORT" \
        java "${props[@]}" "${extra[@]}" -jar "$GATEWAY_JAR" >>"$WORK/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    wait_for "http://127.0.0.1:$MGMT_PORT/q/health/live" 90 "$GATEWAY_PID" "$WORK/gateway.log"
}

# One admin call: prints "<http code> <body>" (code 000 when the gateway did not answer), appends to actions.log.
admin() { # action method path [body]
    local action=$1 method=$2 path=$3 body=${4:-} out code
    GW_PORT=$(cat "$WORK/gw-port")
    out=$(curl -s --max-time 90 -w '\n%{http_code}' -X "$method" -H "Authorization: Bearer $ADMIN_TOKEN" \
        -H 'Content-Type: application/json' ${body:+--data "$body"} "http://127.0.0.1:$GW_PORT$path" || true)
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    [[ $code =~ ^[0-9]{3}$ ]] || code=000
    local err
    err=$(jq -r '.error.code // empty' <<<"$out" 2>/dev/null || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%s)" "$action" "$code" "${err:--}" "$path" \
        "$(jq -c '{id: (.instance.id // .id), adopted: (.adopted // .instance.adopted), estimate: .estimate_usd}' <<<"$out" 2>/dev/null || echo -)" \
        >>"$WORK/actions.log"
    printf '%s %s' "$code" "$out"
}

# A random tracked instance in one of the given states (egrep pattern), or nothing.
pick_instance() {
    admin list GET /admin/compute/instances | cut -d' ' -f2- \
        | jq -r --arg re "$1" '[.instances[]? | select(.state | test($re)) | .id] | .[]' 2>/dev/null | shuf -n 1 || true
}

driver() { # runs in the background until its end time
    local end=$((SECONDS + $1)) r provider hours id live
    while ((SECONDS < end)); do
        r=$((RANDOM % 100))
        provider=$([[ $((RANDOM % 2)) == 0 ]] && echo vastai || echo runpod)
        if ((r < 40)); then
            live=$(admin list GET /admin/compute/instances | cut -d' ' -f2- \
                | jq '[.instances[]? | select(.state != "destroyed")] | length' 2>/dev/null || echo 0)
            if ((live >= 8)); then
                r=70 # enough machines: destroy one instead
            elif ((RANDOM % 100 < 8)); then
                # Over the daily cap ($20): 35 h of a $0.69/h pod is $24+, must be refused (402/409).
                admin provision_over_cap POST /admin/compute/instances \
                    "{\"provider\":\"runpod\",\"recipe\":\"soak\",\"hours\":35}" >/dev/null &
            else
                # vastai $0.22-0.45/h x 1-8 h, runpod $0.69/h x 1-8 h: auto (< $5) and warn ($5-20) tiers.
                hours=$((1 + RANDOM % 8))
                admin provision POST /admin/compute/instances \
                    "{\"provider\":\"$provider\",\"recipe\":\"soak\",\"hours\":$hours}" >/dev/null &
            fi
        fi
        if ((r >= 40 && r < 55)); then
            id=$(pick_instance '^(ready|waiting)$')
            [[ -n $id ]] && admin stop POST "/admin/compute/instances/$id/stop?force=true&deadline_seconds=1" >/dev/null &
        elif ((r >= 55 && r < 65)); then
            id=$(pick_instance '^stopped$')
            [[ -n $id ]] && admin start POST "/admin/compute/instances/$id/start" >/dev/null &
        elif ((r >= 65 && r < 92)); then
            id=$(pick_instance '^(ready|waiting|stopped|failed)$')
            [[ -n $id ]] && admin destroy DELETE "/admin/compute/instances/$id?force=true&deadline_seconds=1" >/dev/null &
        elif ((r >= 92)); then
            admin leaks GET '/admin/compute/leaks?refresh=true' >/dev/null &
        fi
        sleep "$((1 + RANDOM % 3))"
    done
    wait
}

kill_mid_action() { # waits (up to 30 s) until the stand-ins answer a create, state change or destroy, then kill -9
    local deadline=$((SECONDS + 30)) inflight kinds
    while ((SECONDS < deadline)); do
        inflight=$(curl -fs --max-time 2 "http://127.0.0.1:$CONTROL_PORT/inflight" || echo total=0)
        if [[ $inflight != *total=0* ]]; then
            kinds=$(awk -F= '$1 != "total" && $2 > 0 { printf "%s%s", sep, $1; sep = "+" }' <<<"$inflight")
            break
        fi
        sleep 0.1
    done
    kill -9 "$GATEWAY_PID" 2>/dev/null || true
    echo "${kinds:-idle}"
}

main() {
    command -v jq >/dev/null || die "jq is needed"
    command -v ss >/dev/null || die "ss (iproute2) is needed"
    command -v curl >/dev/null || die "curl is needed"
    if [[ ! -f $GATEWAY_JAR ]]; then
        log "building the gateway jar"
        ./mvnw -B -q package -DskipTests
    fi
    WORK=$(mktemp -d /tmp/gateway-compute-soak.XXXXXX)
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkdir -p "$WORK/ledger" "$WORK/state"
    : >"$WORK/actions.log"

    read -r VAST_PORT RUNPOD_PORT MACHINE_PORT CONTROL_PORT <<<"$(free_ports 4)"
    java -Xmx128m -XX:+UseSerialGC "$REPO/bench/soak/FakeProviders.java" --vast-port "$VAST_PORT" \
        --runpod-port "$RUNPOD_PORT" --machine-port "$MACHINE_PORT" --control-port "$CONTROL_PORT" \
        --vast-key "$VAST_KEY" --runpod-key "$RUNPOD_KEY" --model soak-model --fault-rate "$FAULT_RATE" \
        --timeout-fault-ms 7000 --seed "$SEED" --faults "$FAULT_KINDS" >"$WORK/fakes.log" 2>&1 &
    FAKE_PID=$!
    wait_for "http://127.0.0.1:$CONTROL_PORT/faults" 60 "$FAKE_PID" "$WORK/fakes.log"
    log "stand-ins: Vast.ai 127.0.0.1:$VAST_PORT, RunPod :$RUNPOD_PORT, machines :$MACHINE_PORT, control :$CONTROL_PORT (fault rate $FAULT_RATE, seed $SEED)"

    start_gateway
    log "gateway pid $GATEWAY_PID on 127.0.0.1:$GW_PORT, state $WORK/state ($GATEWAY_JAR, commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown))"

    local duration_s t0 restarts=0 next_restart kinds unexpected=0
    local -a restart_kinds=()
    duration_s=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
    t0=$SECONDS
    driver "$duration_s" &
    DRIVER_PID=$!
    log "driver: random provisions, stops, starts, destroys and leak checks for $MINUTES min; kill -9 every ${RESTART_EVERY_S}s"
    next_restart=$((t0 + RESTART_EVERY_S))
    while kill -0 "$DRIVER_PID" 2>/dev/null; do
        if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
            # Not the soak's kill: something else stopped it (a signal from outside, a crash). Counted, then restarted.
            unexpected=$((unexpected + 1))
            { wait "$GATEWAY_PID"; } 2>/dev/null || true
            log "$((SECONDS - t0))s: the gateway exited on its own or by another's signal (last log lines below); starting it again"
            tail -n 3 "$WORK/gateway.log" | cut -c1-200 >&2
            start_gateway
        fi
        if ((SECONDS >= next_restart && SECONDS < t0 + duration_s - 20)); then
            kinds=$(kill_mid_action)
            { wait "$GATEWAY_PID"; } 2>/dev/null || true
            restarts=$((restarts + 1))
            restart_kinds+=("$kinds")
            log "$((SECONDS - t0))s: gateway killed (kill -9) during: $kinds; starting it again on the same state"
            start_gateway
            log "$((SECONDS - t0))s: gateway back, pid $GATEWAY_PID"
            next_restart=$((SECONDS + RESTART_EVERY_S))
        fi
        sleep 1
    done
    wait "$DRIVER_PID" || true
    DRIVER_PID=""
    curl -fs "http://127.0.0.1:$CONTROL_PORT/faults?on=0" >/dev/null
    log "load over after $((SECONDS - t0)) s; faults off, settling ${SETTLE_S} s"
    sleep "$SETTLE_S"

    # ---- checks ---------------------------------------------------------------------------------------------------
    local -a failures=()
    local instances leaks spend ledger tracked
    instances=$(admin final_list GET /admin/compute/instances | cut -d' ' -f2-)
    local k
    for k in 1 2 3; do # a refresh whose list failed (should not happen with faults off) is asked again
        leaks=$(admin final_leaks GET '/admin/compute/leaks?refresh=true' | cut -d' ' -f2-)
        [[ $(jq '.errors | length' <<<"$leaks") == 0 ]] && break
        sleep 5
    done
    spend=$(admin final_spend GET /admin/compute/spend | cut -d' ' -f2-)
    ledger=$(curl -fs "http://127.0.0.1:$CONTROL_PORT/ledger")
    printf '%s\n' "$instances" >"$WORK/final-instances.json"
    printf '%s\n' "$leaks" >"$WORK/final-leaks.json"
    printf '%s\n' "$spend" >"$WORK/final-spend.json"
    printf '%s' "$ledger" >"$WORK/ledger.tsv"
    tracked=$(jq -r '.instances[] | select(.state != "destroyed" and .provider_id != null) | "\(.provider)\t\(.provider_id)\t\(.id)\t\(.state)"' <<<"$instances")
    local leaked_ids
    leaked_ids=$(jq -r '.leaks[] | select(.kind == "untracked") | "\(.provider)\t\(.provider_id)"' <<<"$leaks")

    echo
    echo "Compute fault soak, $(date -u +%Y-%m-%dT%H:%M:%SZ): $MINUTES min, fault rate $FAULT_RATE, seed $SEED, restart every ${RESTART_EVERY_S}s, commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    local created billing destroyed
    created=$(grep -c . <<<"$ledger" || true)
    billing=$(awk -F'\t' '$5 == 0' <<<"$ledger" | grep -c . || true)
    destroyed=$((created - billing))
    echo "Stand-ins: $created machines created ($(awk -F'\t' '{ print $1 }' <<<"$ledger" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')), $destroyed destroyed, $billing still billing"
    echo "Faults injected: $(curl -fs "http://127.0.0.1:$CONTROL_PORT/faults" | grep -v '^faults_on' | paste -sd' ' | sed 's/ /, /g')"
    echo "Restarts (kill -9 mid-action): $restarts (in flight: ${restart_kinds[*]:-none}); unexpected gateway exits (restarted): $unexpected"
    echo "Admin calls by action and answer:"
    awk -F'\t' '$2 != "list" && $2 !~ /^final/ { print $2 " " $3 ($4 != "-" ? " " $4 : "") }' "$WORK/actions.log" \
        | sort | uniq -c | sort -k2,2 -k1,1rn | awk '{ c = $1; $1 = ""; printf "  %5d %s\n", c, substr($0, 2) }'
    local adopted_answers adoptions
    adopted_answers=$(awk -F'\t' '$2 == "provision" && $6 ~ /"adopted":true/' "$WORK/actions.log" | grep -c . || true)
    adoptions=$(jq -r 'select(.action == "adopt" and .result == "ok") | .instance' "$WORK/state/tracked-instances.jsonl" 2>/dev/null | sort -u | grep -c . || true)
    echo "Adoptions (tracked-instances.jsonl adopt ok): $adoptions ($adopted_answers answered 201 adopted: true)"
    echo "Tracked instances at the end by state: $(jq -r '.instances[].state' <<<"$instances" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"
    echo "Leaks reported at the end: $(jq -r '.leaks | length' <<<"$leaks") ($(jq -r '.leaks[].kind' <<<"$leaks" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')), list errors: $(jq '.errors | length' <<<"$leaks")"
    echo "Leak reports seen during the run (untracked, by provider id): $(awk -F'\t' '$2 == "leaks" && $3 == 200' "$WORK/actions.log" | grep -c . || true) refreshes"
    echo

    # 1: every billing machine tracked or reported
    local unaccounted=0 line provider id label
    : >"$WORK/unaccounted.txt"
    while IFS=$'\t' read -r provider id label _ _ dph status; do
        [[ -z $provider ]] && continue
        if grep -qP "^$provider\t$id\t" <<<"$tracked"; then continue; fi
        if grep -qP "^$provider\t$id$" <<<"$leaked_ids"; then continue; fi
        unaccounted=$((unaccounted + 1))
        printf '%s %s %s $%s/h status %s\n' "$provider" "$id" "$label" "$dph" "$status" >>"$WORK/unaccounted.txt"
    done < <(awk -F'\t' '$5 == 0' <<<"$ledger")
    local tracked_billing reported_billing
    tracked_billing=$(awk -F'\t' '$5 == 0 { print $1 "\t" $2 }' <<<"$ledger" | grep -cFxf <(cut -f1,2 <<<"$tracked") || true)
    reported_billing=$(awk -F'\t' '$5 == 0 { print $1 "\t" $2 }' <<<"$ledger" | grep -cFxf <(printf '%s\n' "$leaked_ids") || true)
    if ((unaccounted == 0)); then
        echo "PASS billing machines accounted for: $billing billing at the stand-ins, $tracked_billing tracked live, $reported_billing reported as leaks, 0 neither"
    else
        echo "FAIL billing machines accounted for: $billing billing at the stand-ins, $tracked_billing tracked live, $reported_billing reported as leaks, $unaccounted neither:"
        sed 's/^/    /' "$WORK/unaccounted.txt"
        failures+=("billing machines accounted for")
    fi
    # Not a check (issue 26 counts a reported leak as accounted for), but the sign of a gateway bug: a machine the
    # gateway launched, then marked destroyed (spend settled, reservation released) while it still bills.
    local lost lost_usd
    lost=$(jq -r '.leaks[] | select(.kind == "untracked" and .instance_state == "destroyed") | "\(.provider)\t\(.provider_id)"' <<<"$leaks")
    lost_usd=$(awk -F'\t' 'NR == FNR { lost[$1 "\t" $2] = 1; next } ($1 "\t" $2) in lost { s += $6 } END { printf "%.2f", s }' \
        <(printf '%s\n' "$lost") <(printf '%s\n' "$ledger"))
    echo "  NOTE reported leaks the gateway itself launched and then marked destroyed while they still bill: $(grep -c . <<<"$lost" || true) (\$$lost_usd/h billing, no longer in committed spend; by provider: $(cut -f1 <<<"$lost" | grep . | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }'))"
    local gone
    gone=$(cut -f1,2 <<<"$tracked" | grep . | grep -cvFxf <(awk -F'\t' '$5 == 0 { print $1 "\t" $2 }' <<<"$ledger") || true)
    echo "  tracked live but not billing at the stand-ins: $gone (reported tracked_but_gone: $(jq '[.leaks[] | select(.kind == "tracked_but_gone")] | length' <<<"$leaks"))"

    # 2: committed spend covers the live reservations
    local committed reserved
    committed=$(jq '.committed_today_usd' <<<"$spend")
    reserved=$(jq '[.instances[] | select(.state != "destroyed") | .estimate_usd] | add // 0' <<<"$instances" \
        | awk '{ printf "%.2f", $1 }')
    if awk -v c="$committed" -v r="$reserved" 'BEGIN { exit !(c + 0.005 >= r) }'; then
        echo "PASS committed spend: \$$committed committed today (UTC $(jq -r .day <<<"$spend")) >= \$$reserved reserved by the $(jq '[.instances[] | select(.state != "destroyed")] | length' <<<"$instances") instances tracked live"
    else
        echo "FAIL committed spend: \$$committed committed today < \$$reserved reserved by the instances tracked live"
        failures+=("committed spend")
    fi

    # 3: no launch made two billing machines unless the extra ones are reported
    local dup_labels dup_bad=0
    dup_labels=$(awk -F'\t' '{ print $3 }' <<<"$ledger" | sort | uniq -d | grep -c . || true)
    while read -r label; do
        [[ -z $label ]] && continue
        local n_live n_tracked n_reported
        n_live=$(awk -F'\t' -v l="$label" '$3 == l && $5 == 0' <<<"$ledger" | grep -c . || true)
        n_tracked=$(awk -F'\t' -v l="$label" '$3 == l && $5 == 0 { print $1 "\t" $2 }' <<<"$ledger" | grep -cFxf <(cut -f1,2 <<<"$tracked") || true)
        n_reported=$(awk -F'\t' -v l="$label" '$3 == l && $5 == 0 { print $1 "\t" $2 }' <<<"$ledger" | grep -cFxf <(printf '%s\n' "$leaked_ids") || true)
        if ((n_live > 1 && (n_tracked > 1 || n_live - n_tracked > n_reported))); then
            dup_bad=$((dup_bad + 1))
            echo "    $label: $n_live billing, $n_tracked tracked, $n_reported reported"
        fi
    done < <(awk -F'\t' '{ print $3 }' <<<"$ledger" | sort | uniq -d)
    if ((dup_bad == 0)); then
        echo "PASS one machine per launch: $dup_labels labels with more than one machine ever created, none with an extra machine billing unreported"
    else
        echo "FAIL one machine per launch: $dup_bad labels with extra machines billing, neither tracked nor reported"
        failures+=("one machine per launch")
    fi

    # 4: 5xx answers are documented provider errors; over-cap provisions refused
    local bad5xx over_cap over_cap_refused
    bad5xx=$(awk -F'\t' -v re="$ALLOWED_5XX" '$3 >= 500 && $4 !~ re' "$WORK/actions.log" | grep -c . || true)
    over_cap=$(awk -F'\t' '$2 == "provision_over_cap" && $3 != "000"' "$WORK/actions.log" | grep -c . || true)
    over_cap_refused=$(awk -F'\t' '$2 == "provision_over_cap" && ($3 == 402 || $3 == 409)' "$WORK/actions.log" | grep -c . || true)
    if ((bad5xx == 0)); then
        echo "PASS 5xx answers: $(awk -F'\t' '$3 >= 500' "$WORK/actions.log" | grep -c . || true), all documented provider errors ($(awk -F'\t' '$3 >= 500 { print $4 }' "$WORK/actions.log" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }'))"
    else
        echo "FAIL 5xx answers: $bad5xx not documented provider errors:"
        awk -F'\t' -v re="$ALLOWED_5XX" '$3 >= 500 && $4 !~ re' "$WORK/actions.log" | head -n 10 | sed 's/^/    /'
        failures+=("5xx answers")
    fi
    if ((over_cap == over_cap_refused)); then
        echo "PASS over-cap provisions refused: $over_cap_refused of $over_cap"
    else
        echo "FAIL over-cap provisions refused: $over_cap_refused of $over_cap"
        failures+=("over-cap refused")
    fi
    echo "  no answer (gateway killed or restarting): $(awk -F'\t' '$3 == "000"' "$WORK/actions.log" | grep -c . || true) calls"
    local errors
    errors=$(grep -c ' ERROR ' "$WORK/gateway.log" || true)
    echo "  gateway log: $errors ERROR lines, $(grep -c ' WARN ' "$WORK/gateway.log" || true) WARN lines (not a check: provider faults are logged)"

    echo
    if ((${#failures[@]})); then
        echo "FAILED: ${failures[*]} (SOAK_KEEP_TMP=1 keeps the logs)"
        exit 1
    fi
    echo "ALL CHECKS PASSED"
}

mkdir -p "$REPO/bench/results"
RESULT="$REPO/bench/results/compute-soak-$(date -u +%Y%m%dT%H%M%SZ).txt"
set -o pipefail
main "$@" | tee "$RESULT"
exit "${PIPESTATUS[0]}"
