#!/usr/bin/env bash
# Ingest benchmark: dohyo's HTTP source (WAL on) vs the engine's own ingest of
# the same events, then a 10x overload. Results go in BENCHMARKS.md.
#   EVENTS=1000000 DURATION=60s bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/dohyo ./cmd/dohyo
go build -o bin/bench-ingest ./bench/ingest
exec bin/bench-ingest -mode all -events "${EVENTS:-1000000}" -duration "${DURATION:-60s}" -dohyo bin/dohyo
