#!/usr/bin/env bash
# The test suite under sanitizers, each in its own build directory (GCC, -O1 -g1: line
# numbers in reports, a faster build than RelWithDebInfo).
#
#   scripts/sanitize.sh asan          build-asan/: ASan + UBSan. Unit tests, the fuzz corpora
#                                     and regressions, and the CI subset of the integration
#                                     tests (label `integration-asan-ci`), against the real engine, with
#                                     the ASan build of the agent.
#   scripts/sanitize.sh asan --all    the same with every integration test (about 2x their
#                                     normal time)
#   scripts/sanitize.sh tsan          build-tsan/: TSan. The unit tests that run threads
#                                     (label `threads`: HTTP server, state model snapshots,
#                                     supervisor, engine client/tracker, collectors).
#   scripts/sanitize.sh MODE [--all] [-- CTEST ARGS]
#   scripts/sanitize.sh MODE --build-only   configure and build, run nothing (dev.sh test builds
#                                     both while the main tests run)
#
# Integration tests need the engine and the test image: run `sudo scripts/dev.sh setup`
# first. Suppressions, each with its reason: scripts/sanitizers/*.supp.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=${1:-}
[ "$#" -gt 0 ] && shift
all=false
build_only=false
ctest_args=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --all) all=true ;;
    --build-only) build_only=true ;;
    --) shift; ctest_args=("$@"); break ;;
    *) echo "sanitize.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "==> $*"; }
supp="$PWD/scripts/sanitizers"
# Common flags: frame pointers for cheap stack traces, and no _FORTIFY_SOURCE, whose glibc
# wrappers hide accesses from the sanitizer's interceptors.
common="-O1 -g1 -fno-omit-frame-pointer -U_FORTIFY_SOURCE"
case "$mode" in
  asan)
    BUILD_DIR=build-asan
    sanitize="-fsanitize=address,undefined"
    flags="$common $sanitize -fno-sanitize-recover=undefined"
    targets=(unit_tests integration_tests composewatch fuzz_replay_all)
    labels='unit|threads|fuzz|integration-asan-ci'
    $all && labels='unit|threads|fuzz|integration'
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
    ;;
  tsan)
    BUILD_DIR=build-tsan
    sanitize="-fsanitize=thread"
    flags="$common $sanitize"
    targets=(unit_tests)
    labels='threads'
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
    ;;
  *)
    echo "usage: $0 asan|tsan [--all] [-- CTEST ARGS]" >&2
    exit 2
    ;;
esac

start=$SECONDS
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  say "configuring $BUILD_DIR/"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$sanitize" >/dev/null
fi
say "building ${targets[*]} in $BUILD_DIR/"
cmake --build "$BUILD_DIR" -j"${SANITIZE_JOBS:-$(nproc)}" --target "${targets[@]}"
built=$SECONDS
$build_only && { say "built in $((built - start)) s"; exit 0; }
say "built in $((built - start)) s; running ctest -L '$labels'"
ctest --test-dir "$BUILD_DIR" -L "$labels" --output-on-failure -j"$(nproc)" "${ctest_args[@]}"
say "$mode: build $((built - start)) s, tests $((SECONDS - built)) s"
