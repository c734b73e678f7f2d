#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ with clang (ASan + UBSan) into build-fuzz/ and
# fuzzes each one for a bounded time.
#
#   scripts/fuzz.sh                       every harness, 60 s each
#   scripts/fuzz.sh --ci                  every harness, 20 s each (what CI runs)
#   scripts/fuzz.sh --time 3600 compose_loader     one harness for an hour
#   scripts/fuzz.sh --replay              build, then only replay corpora and regressions (ctest -L fuzz)
#   scripts/fuzz.sh --build-only          configure and build the harnesses, run nothing
#
# Limits per input: 2 s (-timeout; a quadratic path is a finding), 1 GiB RSS, 512 MiB in
# one allocation. An input that crashes, times out or runs out of memory is written to
# fuzz/regressions/<harness>/ (commit it with the fix: ctest -L fuzz replays it from then on,
# in this build and, without libFuzzer, in build/ and build-asan/). Inputs that add
# coverage go to build-fuzz/corpus/<harness>/ and are kept between runs.
# Exit status 1 when any harness found something.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=build-fuzz
time_per_harness=${FUZZ_TIME:-60}
replay_only=false
build_only=false
harnesses=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --ci) time_per_harness=${FUZZ_TIME:-20} ;;
    --time) time_per_harness=$2; shift ;;
    --replay) replay_only=true ;;
    --build-only) build_only=true ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) harnesses+=("$1") ;;
  esac
  shift
done

say() { echo "==> $*"; }

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  say "configuring $BUILD_DIR/ (clang, libFuzzer, ASan, UBSan)"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=clang++ \
    -DCOMPOSEWATCH_FUZZ=ON >/dev/null
fi
say "building the harnesses"
start=$SECONDS
cmake --build "$BUILD_DIR" -j"$(nproc)" --target fuzz_all
say "built in $((SECONDS - start)) s"
$build_only && exit 0

if [ "${#harnesses[@]}" -eq 0 ]; then
  mapfile -t harnesses < <(cd "$BUILD_DIR" && ls fuzz/fuzz_* | sed 's|fuzz/fuzz_||')
fi

say "replaying the corpora and fuzz/regressions/"
ctest --test-dir "$BUILD_DIR" -L fuzz --output-on-failure
$replay_only && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
found=()
for h in "${harnesses[@]}"; do
  bin="$BUILD_DIR/fuzz/fuzz_$h"
  [ -x "$bin" ] || { echo "fuzz.sh: no harness $h" >&2; exit 2; }
  corpus="$BUILD_DIR/corpus/$h"
  regressions="fuzz/regressions/$h"
  mkdir -p "$corpus" "$regressions"
  say "fuzzing $h for ${time_per_harness} s"
  before=$(ls "$regressions" | wc -l)
  # Seeds: the fixtures named in fuzz/CMakeLists.txt (COMPOSEWATCH_FUZZ_SEEDS_<name>).
  mapfile -t seed_dirs < <(sed -n "s/^set(COMPOSEWATCH_FUZZ_SEEDS_${h} \(.*\))$/\1/p" fuzz/CMakeLists.txt | tr ' ' '\n')
  set +e
  "$bin" -max_total_time="$time_per_harness" -timeout=2 -rss_limit_mb=1024 -malloc_limit_mb=512 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$regressions/" \
    "$corpus" "${seed_dirs[@]}" "$regressions" 2>"$BUILD_DIR/fuzz-$h.log"
  status=$?
  set -e
  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$BUILD_DIR/fuzz-$h.log" || true
  if [ "$status" -ne 0 ] || [ "$(ls "$regressions" | wc -l)" -ne "$before" ]; then
    tail -n 40 "$BUILD_DIR/fuzz-$h.log" >&2
    found+=("$h")
  fi
done

if [ "${#found[@]}" -gt 0 ]; then
  echo "fuzz.sh: findings in: ${found[*]} (inputs in fuzz/regressions/, logs in $BUILD_DIR/fuzz-*.log)" >&2
  exit 1
fi
say "no findings"
