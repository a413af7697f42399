#!/usr/bin/env bash
# Query language benchmark: pushed-down queries vs hand-written LogsQL on the
# same engine and data, a rare keyword vs grep and zstd | grep, and an all-Go
# pipeline in rows/s. The generated data (~2 GB text, its zstd copy, the
# engine folder) is cached under $DIR, keyed by the generator's parameters,
# so re-runs skip the generation and the ingest. Results go in BENCHMARKS.md.
#   EVENTS=5000000 RUNS=5 DIR=/tmp/dohyo-bench-query bench/query.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v zstd >/dev/null || { echo "bench/query.sh needs zstd (apt-get install zstd)"; exit 1; }
go build -o bin/bench-query ./bench/query
exec bin/bench-query -events "${EVENTS:-5000000}" -runs "${RUNS:-5}" -dir "${DIR:-${TMPDIR:-/tmp}/dohyo-bench-query}" "$@"
