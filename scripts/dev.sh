#!/usr/bin/env bash
# Developer and CI entry point.
#
#   sudo scripts/dev.sh setup        install missing packages, build into build/, start the
#                                    engine, make the integration test image
#   sudo scripts/dev.sh run [ARGS]   setup, then run the agent in the foreground
#                                    (http://127.0.0.1:9469/metrics)
#   sudo scripts/dev.sh test         setup, then every test (ctest; the labels engine-26 and
#                                    engine-28 run the core integration tests on Docker 26.1
#                                    and 28.5, scripts/nested-engine.sh), then the sanitizer
#                                    builds (scripts/sanitize.sh asan, tsan) and 20 s of
#                                    fuzzing per harness (scripts/fuzz.sh --ci)
#   sudo scripts/dev.sh test ARGS    setup, then ctest ARGS in build/ only
#
# The packages are listed in scripts/packages.txt. CI=true in the environment is passed on
# to the build and the tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=build

say() { echo "==> $*"; }
die() { echo "dev.sh: $*" >&2; exit 1; }

install_packages() {
  local wanted missing=()
  mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' scripts/packages.txt)
  for pkg in "${wanted[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) == *'ok installed'* ]] || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run: sudo $0 setup)"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    say "configuring $BUILD_DIR/"
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  say "building"
  cmake --build "$BUILD_DIR" -j"$(nproc)"
  say "packaging $BUILD_DIR/composewatch_*.deb"
  (cd "$BUILD_DIR" && cpack -G DEB >cpack.log 2>&1) || { tail -n 20 "$BUILD_DIR/cpack.log" >&2; die "cpack failed"; }
}

setup() {
  install_packages
  build
  say "starting the Docker engine if needed"
  scripts/engine.sh ensure
  say "making the test image if needed"
  scripts/test-image.sh
}

cmd=${1:-}
[ "$#" -gt 0 ] && shift
case "$cmd" in
  setup)
    setup
    ;;
  run)
    setup
    say "running build/composewatch run $*"
    exec "$BUILD_DIR/composewatch" run "$@"
    ;;
  test)
    setup
    status=0
    # The whole run (no ctest arguments) goes on with the sanitizer builds and a short fuzz
    # run of every harness; COMPOSEWATCH_SANITIZERS=0 skips them.
    sanitizers=false
    if [ "$#" -eq 0 ] && [ "${COMPOSEWATCH_SANITIZERS:-1}" != 0 ]; then sanitizers=true; fi
    builder=""
    if $sanitizers; then
      # The integration tests mostly wait on the engine: the sanitizer and fuzz builds use
      # the idle CPU meanwhile, at the lowest priority so the tests' timing is theirs.
      say "building the ASan, TSan and fuzz builds in the background (log: sanitizer-builds.log)"
      ( nice -n 19 scripts/sanitize.sh asan --build-only && nice -n 19 scripts/sanitize.sh tsan --build-only &&
          nice -n 19 scripts/fuzz.sh --build-only ) >sanitizer-builds.log 2>&1 &
      builder=$!
    fi
    # The nested engines' images (a debootstrap each, the first time) are made while the
    # first tests run; their start fixtures wait for them (scripts/nested-engine.sh locks).
    nested=""
    if [ "$#" -eq 0 ]; then
      say "making the nested engines' images in the background (log: nested-engines.log)"
      ( scripts/nested-engine.sh image trixie && scripts/nested-engine.sh image sid ) >nested-engines.log 2>&1 &
      nested=$!
    fi
    say "running the tests"
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 "$@" || status=1
    if [ -n "$nested" ]; then wait "$nested" || { tail -n 30 nested-engines.log; status=1; }; fi
    if $sanitizers; then
      say "waiting for the background builds"
      wait "$builder" || { tail -n 30 sanitizer-builds.log; status=1; }
      say "ASan + UBSan"
      scripts/sanitize.sh asan || status=1
      say "TSan"
      scripts/sanitize.sh tsan || status=1
      say "fuzzing"
      scripts/fuzz.sh --ci || status=1
    fi
    exit "$status"
    ;;
  *)
    echo "usage: $0 setup | run [AGENT ARGS] | test [CTEST ARGS]" >&2
    exit 2
    ;;
esac
