# shellcheck shell=bash
# bench/lib/load.sh: sourced first by every bench script: where the bench lives, and the functions they share.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
RESULTS_DIR="$BENCH_DIR/results"

# shellcheck source=lib/common.sh
source "$BENCH_DIR/lib/common.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_DIR/lib/servers.sh"
# shellcheck source=lib/checks.sh
source "$BENCH_DIR/lib/checks.sh"
# shellcheck source=lib/measure.sh
source "$BENCH_DIR/lib/measure.sh"
