#!/usr/bin/env bash
# What rendering the status page (`/`) costs for a busy host: builds build/tests/status_page_bench
# (bench/status_page/render_bench.cpp) and runs it. In process, no engine, no network, no
# root: the page of 20 Compose projects, 200 containers (tests/support/busy_host.h),
# rendered N times after one warm-up. Measures and reports; see docs/benchmarks.md,
# "Status page".
#
#   bench/status_page/run.sh [--runs 200] [--projects 20]
#
# Needs build/ configured (cmake -S . -B build). Prints one line: containers, page bytes,
# milliseconds per render (mean, p50, p99, max) and CPU milliseconds per render.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f build/CMakeCache.txt ] || { echo "status_page bench: configure build/ first: cmake -S . -B build" >&2; exit 1; }
cmake --build build -j2 --target status_page_bench >&2
exec build/tests/status_page_bench "$@"
