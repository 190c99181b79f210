# shellcheck shell=bash
# bench/lib/common.sh: settings, tools, ports, CPU pinning, CPU accounting and cleanup for bench/run.sh, bench/ab.sh
# and bench/routing.sh.

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

WRK_TIMEOUT=5s      # wrk counts a slower answer as a socket error (which fails the run)
JVM_HEAP=512m       # the gateway's heap as the previous bench gave it; the floor gets the same
OTHER_CPU_LIMIT=15  # % of one core other processes may use in a measured window before it is flagged disturbed

# What cleanup() stops and removes: the temp dir, a running wrk, every process a script started.
WORK_DIR=""
WRK_PID=""
STARTED_PIDS=()

# begin_run <name>: what every bench script does once its settings are read: the tools, the clock tick, a work
# directory (/tmp/gateway-<name>.*) that cleanup removes however the script ends, and a fresh client key.
begin_run() {
    ensure_tools
    CLK_TCK=$(getconf CLK_TCK)
    WORK_DIR=$(mktemp -d "/tmp/gateway-$1.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    CLIENT_KEY="sk-bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
}

# Reads and checks every knob; sets the upper-case globals the other files use.
read_settings() {
    DURATION=${BENCH_DURATION:-15}
    ROUNDS=${BENCH_ROUNDS:-3}
    CONNECTIONS=${BENCH_CONNECTIONS:-32}
    PACED_CONNECTIONS=${BENCH_PACED_CONNECTIONS:-256}
    PACE_MS=${BENCH_PACE_MS:-5}
    WARMUP=${BENCH_WARMUP:-3}
    JVM_WARMUP=${BENCH_JVM_WARMUP:-40}
    JVM_WARMUP_MAX=${BENCH_JVM_WARMUP_MAX:-240}
    WARMUP_SLICE=${BENCH_WARMUP_SLICE:-10}
    WARMUP_SETTLE_PCT=${BENCH_WARMUP_SETTLE_PCT:-5}
    WARMUP_SETTLE_SLICES=${BENCH_WARMUP_SETTLE_SLICES:-3}
    LOWLOAD_REQUESTS=${BENCH_LOWLOAD_REQUESTS:-2000}
    LOWLOAD_WARMUP=${BENCH_LOWLOAD_WARMUP:-1000}
    VERIFY_WRITES=${BENCH_VERIFY_WRITES:-1}
    read -r -a MODES <<<"${BENCH_MODES:-non-stream burst paced lowload}"
    read -r -a TARGETS <<<"${BENCH_TARGETS:-direct nginx floor gateway}"
    FLOOR_KIND=${BENCH_FLOOR:-vertx}
    case $FLOOR_KIND in
        vertx) FLOOR_MAIN=bench.Floor FLOOR_DESC="Vert.x HttpProxy.reverseProxy, pool 1024" ;;
        netty) FLOOR_MAIN=bench.NettyFloor FLOOR_DESC="Netty codecs only (bench.NettyFloor), pool per event loop" ;;
        *) die "BENCH_FLOOR must be vertx or netty, got '$FLOOR_KIND'" ;;
    esac
    local name value m t
    for name in DURATION ROUNDS CONNECTIONS PACED_CONNECTIONS PACE_MS WARMUP JVM_WARMUP JVM_WARMUP_MAX WARMUP_SLICE \
        WARMUP_SETTLE_PCT WARMUP_SETTLE_SLICES LOWLOAD_REQUESTS LOWLOAD_WARMUP; do
        value=${!name}
        [[ $value =~ ^[0-9]+$ ]] || die "$name must be a whole number, got '$value'"
    done
    ((DURATION > 0 && DURATION <= 600)) || die "BENCH_DURATION must be 1..600 s, got $DURATION"
    ((ROUNDS >= 1 && ROUNDS <= 20)) || die "BENCH_ROUNDS must be 1..20, got $ROUNDS"
    ((WARMUP <= 600 && JVM_WARMUP <= 600)) || die "warm-ups must be at most 600 s"
    ((JVM_WARMUP_MAX >= JVM_WARMUP && JVM_WARMUP_MAX <= 1200)) || die "BENCH_JVM_WARMUP_MAX must be BENCH_JVM_WARMUP..1200 s"
    ((WARMUP_SLICE >= 2 && WARMUP_SLICE <= 60)) || die "BENCH_WARMUP_SLICE must be 2..60 s, got $WARMUP_SLICE"
    ((WARMUP_SETTLE_PCT >= 1 && WARMUP_SETTLE_PCT <= 50)) || die "BENCH_WARMUP_SETTLE_PCT must be 1..50, got $WARMUP_SETTLE_PCT"
    ((WARMUP_SETTLE_SLICES >= 2 && WARMUP_SETTLE_SLICES <= 10)) || die "BENCH_WARMUP_SETTLE_SLICES must be 2..10"
    ((CONNECTIONS > 0 && CONNECTIONS <= 1000)) || die "BENCH_CONNECTIONS must be 1..1000, got $CONNECTIONS"
    ((PACED_CONNECTIONS > 0 && PACED_CONNECTIONS <= 1000)) || die "BENCH_PACED_CONNECTIONS must be 1..1000"
    ((PACE_MS > 0 && PACE_MS <= 1000)) || die "BENCH_PACE_MS must be 1..1000 ms, got $PACE_MS"
    ((LOWLOAD_REQUESTS > 0 && LOWLOAD_REQUESTS <= 100000)) || die "BENCH_LOWLOAD_REQUESTS must be 1..100000"
    [[ $VERIFY_WRITES == 0 || $VERIFY_WRITES == 1 ]] || die "BENCH_VERIFY_WRITES must be 0 or 1"
    ((${#MODES[@]})) || die "BENCH_MODES is empty"
    ((${#TARGETS[@]})) || die "BENCH_TARGETS is empty"
    for m in "${MODES[@]}"; do
        [[ $m =~ ^(non-stream|burst|paced|lowload)$ ]] || die "unknown mode '$m' in BENCH_MODES (non-stream burst paced lowload)"
    done
    for t in "${TARGETS[@]}"; do
        [[ $t =~ ^(direct|nginx|floor|gateway)$ ]] || die "unknown target '$t' in BENCH_TARGETS (direct nginx floor gateway)"
    done
    read_pinning
}

# Pinning: with 2+ cores the proxies get one core (BENCH_PROXY_CPU) and the load side (wrk, the upstream, the load
# clients) another (BENCH_LOAD_CPU). Started under taskset, a JVM sees 1 CPU and sizes its GC and thread pools for it.
# Sets CORES, PROXY_CPU, LOAD_CPU (empty on 1 core) and the PIN_PROXY / PIN_LOAD command prefixes.
read_pinning() {
    CORES=$(nproc)
    if ((CORES >= 2)); then
        PROXY_CPU=${BENCH_PROXY_CPU:-0}
        LOAD_CPU=${BENCH_LOAD_CPU:-1}
        [[ $PROXY_CPU =~ ^[0-9]+$ && $LOAD_CPU =~ ^[0-9]+$ ]] || die "BENCH_PROXY_CPU / BENCH_LOAD_CPU must be CPU numbers"
        ((PROXY_CPU != LOAD_CPU)) || die "BENCH_PROXY_CPU and BENCH_LOAD_CPU must differ"
        ((PROXY_CPU < CORES && LOAD_CPU < CORES)) || die "CPU numbers must be below $CORES"
        PIN_PROXY=(taskset -c "$PROXY_CPU")
        PIN_LOAD=(taskset -c "$LOAD_CPU")
    else
        PROXY_CPU="" LOAD_CPU=""
        PIN_PROXY=() PIN_LOAD=()
    fi
}

# The commands a script needs (strace too when VERIFY_WRITES is 1); bench/routing.sh sets its own before begin_run.
NEEDED_TOOLS=(wrk nginx curl java ps taskset)

# The Debian package that provides a command.
package_of() {
    case $1 in
        nginx) echo nginx-light ;;
        java | javap) echo openjdk-17-jdk-headless ;;
        ps) echo procps ;;
        taskset) echo util-linux ;;
        *) echo "$1" ;;
    esac
}

# Installs the Debian packages that are missing (apt-get update only once, and only if something is missing).
ensure_tools() {
    local missing=() tool
    local -a tools=("${NEEDED_TOOLS[@]}")
    if ((VERIFY_WRITES)); then tools+=(strace); fi
    for tool in "${tools[@]}"; do
        command -v "$tool" >/dev/null || missing+=("$(package_of "$tool")")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]} (apt-get)"
        local sudo=()
        ((EUID == 0)) || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq
        # Debian's nginx package may start a system nginx on port 80; the benchmark never uses it.
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    for tool in "${NEEDED_TOOLS[@]}"; do
        command -v "$tool" >/dev/null || die "$tool is required and could not be installed"
    done
    if ((VERIFY_WRITES)); then command -v strace >/dev/null || die "strace is required (or BENCH_VERIFY_WRITES=0)"; fi
}

# stop_pids <pid>...: TERM, then KILL after 10 s, and forget them (cleanup no longer signals their numbers, which the
# kernel may give to other processes). For servers a script stops before its end (bench/routing.sh: one per front).
stop_pids() {
    local pid i alive keep=()
    (($#)) || return 0
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for ((i = 0; i < 100; i++)); do
        alive=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "$@"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]}"; do
        [[ " $* " == *" $pid "* ]] || keep+=("$pid")
    done
    STARTED_PIDS=("${keep[@]}")
    return 0
}

# Prints N distinct free loopback TCP ports (python holds all sockets open at once, so they differ).
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

# Kills everything this script started: TERM first, KILL after 10 s. nginx workers are in the list too.
cleanup() {
    local rc=$? pid i alive
    set +e
    trap - EXIT INT TERM
    [[ -n ${WRK_PID:-} ]] && kill -TERM "$WRK_PID" 2>/dev/null
    for pid in "${STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for ((i = 0; i < 100; i++)); do
        alive=0
        for pid in "${STARTED_PIDS[@]}" ${WRK_PID:-}; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${STARTED_PIDS[@]}" ${WRK_PID:-}; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    if [[ -n ${WORK_DIR:-} && -d $WORK_DIR ]]; then
        if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then log "kept $WORK_DIR"; else rm -rf "$WORK_DIR"; fi
    fi
    exit "$rc"
}

# CPU clock ticks (user + system, all threads) used so far by the given processes: fields 14 and 15 of
# /proc/<pid>/stat, which for a process cover all its threads.
cpu_ticks() {
    local total=0 pid stat
    local -a f
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a f <<<"${stat##*) }" # after "pid (comm) ": state is f[0], utime f[11], stime f[12]
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}

# affinity_of <name> <pids> ...: "name cpus, ..." from Cpus_allowed_list in /proc/<pid>/status (proves the pinning).
affinity_of() {
    local out="" pid cpus
    while (($# >= 2)); do
        for pid in $2; do
            cpus=$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
            out+="${out:+, }$1 $pid: CPU $cpus"
        done
        shift 2
    done
    echo "$out"
}

# Resident memory (MiB) of the given processes together, from VmRSS in /proc/<pid>/status.
rss_mib() {
    local pid kb=0 v
    for pid in "$@"; do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
        kb=$((kb + ${v:-0}))
    done
    awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }'
}

# CPU ticks of the whole machine so far, from /proc/stat: "<task> <irq>", task = user + nice + system (time charged
# to processes, comparable with their /proc/<pid>/stat), irq = irq + softirq + steal (loopback TCP's softirq work of
# every process here, and the hypervisor). machine_busy_ticks: both together.
machine_ticks() { awk -v c="cpu${1:-}" '$1 == c { print $2 + $3 + $4, $7 + $8 + $9; exit }' /proc/stat; }
machine_busy_ticks() { machine_ticks | awk '{ print $1 + $2 }'; }

# Sets CHILDREN_CPU to the CPU seconds of this shell's reaped children (wrk, the low-load client), from `times`.
# Must not run in a command substitution: a subshell's children start from zero.
children_cpu_seconds() {
    times >"$WORK_DIR/times"
    CHILDREN_CPU=$(sed -n 2p "$WORK_DIR/times" | awk '{
        s = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
        printf "%.3f", s }')
}

# Share of one core in percent for a tick delta over a wall-clock interval.
cpu_percent() { awk -v t="$1" -v hz="$CLK_TCK" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? t / hz / s * 100 : 0) }'; }

# A measured window: window_begin <proxy-pids>, then window_end <proxy-pids> sets W_ELAPSED, W_PROXY_TICKS,
# W_UPSTREAM_PCT, W_TOOLS_PCT (wrk or the client), W_OTHER_PCT (processes the script did not start, all cores),
# W_OTHER_PROXY_CORE_PCT (the same on the proxy core alone) and W_IRQ_PCT (irq + softirq + steal, all cores).
window_begin() {
    # shellcheck disable=SC2086 # pid lists split on purpose
    W_P0=$(cpu_ticks $1) W_U0=$(cpu_ticks $UPSTREAM_PID) W_O0=$(cpu_ticks $OWN_PIDS) W_S0=$(cpu_ticks $PROXY_PIDS)
    read -r W_M0 W_I0 < <(machine_ticks)
    read -r W_C0_TASK _ < <(machine_ticks "$PROXY_CPU")
    children_cpu_seconds
    W_C0=$CHILDREN_CPU
    W_T0=$(date +%s.%N)
}
window_end() {
    local p1 u1 o1 s1 m1 i1 c1 t1
    t1=$(date +%s.%N)
    children_cpu_seconds
    # shellcheck disable=SC2086
    p1=$(cpu_ticks $1) u1=$(cpu_ticks $UPSTREAM_PID) o1=$(cpu_ticks $OWN_PIDS) s1=$(cpu_ticks $PROXY_PIDS)
    read -r m1 i1 < <(machine_ticks)
    read -r c1 _ < <(machine_ticks "$PROXY_CPU")
    W_ELAPSED=$(awk -v a="$W_T0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    W_PROXY_TICKS=$((p1 - W_P0))
    W_UPSTREAM_PCT=$(cpu_percent $((u1 - W_U0)) "$W_ELAPSED")
    W_IRQ_PCT=$(cpu_percent $((i1 - W_I0)) "$W_ELAPSED")
    W_TOOLS_PCT=$(awk -v a="$W_C0" -v b="$CHILDREN_CPU" -v s="$W_ELAPSED" 'BEGIN { printf "%.0f", (b - a) / s * 100 }')
    W_OTHER_PCT=$(awk -v m="$(cpu_percent $((m1 - W_M0)) "$W_ELAPSED")" -v o="$(cpu_percent $((o1 - W_O0)) "$W_ELAPSED")" \
        -v w="$W_TOOLS_PCT" 'BEGIN { x = m - o - w; printf "%.0f", (x > 0 ? x : 0) }')
    # On a pinned machine only the proxies (and other people's processes) run on the proxy core. Approximate: a tickless
    # kernel updates per-CPU counters lazily, so a short window can read above 100%; capped there.
    W_OTHER_PROXY_CORE_PCT=-
    [[ -n $PROXY_CPU ]] && W_OTHER_PROXY_CORE_PCT=$(awk -v c="$(cpu_percent $((c1 - W_C0_TASK)) "$W_ELAPSED")" \
        -v p="$(cpu_percent $((s1 - W_S0)) "$W_ELAPSED")" 'BEGIN { x = c - p; x = (x > 100 ? 100 : x); printf "%.0f", (x > 0 ? x : 0) }')
    return 0
}

# flag_disturbed <label>: records the window as disturbed when other processes used noticeable CPU in it.
flag_disturbed() {
    if ((W_OTHER_PCT > OTHER_CPU_LIMIT)); then
        DISTURBED+=("$1: other processes used ${W_OTHER_PCT}% of a core (${W_OTHER_PROXY_CORE_PCT}% on the proxy core)")
        log "WARNING: other processes used ${W_OTHER_PCT}% of a core during $1: its numbers are disturbed"
        log "WARNING: busiest other processes now: $(ps -eo pid=,pcpu=,comm= --sort=-pcpu \
            | awk -v own=" $OWN_PIDS $$ " 'index(own, " " $1 " ") == 0 && $2 > 1 && n++ < 5 { printf "%s%s %s(%s%%)", sep, $1, $3, $2; sep = ", " }
                END { if (sep == "") printf "none any more" }')"
        return 0
    fi
    return 1
}

# Warns when the machine is already busy before anything starts.
check_machine_quiet() {
    local b0 b1 pct
    b0=$(machine_busy_ticks)
    sleep 2
    b1=$(machine_busy_ticks)
    pct=$(cpu_percent $((b1 - b0)) 2)
    QUIET_PCT=$pct
    if ((pct > OTHER_CPU_LIMIT)); then
        log "WARNING: the machine is already ${pct}% busy (of one core) before the benchmark starts;"
        log "WARNING: other processes compete for the same $CORES cores and will lower every number"
    fi
}
