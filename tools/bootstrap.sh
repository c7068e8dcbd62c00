#!/usr/bin/env bash
# One entry point for a fresh Debian machine: install what is missing, build, then
#   tools/bootstrap.sh demo   what the workbench is for: a split brain found, and its safe
#                             twin clean, each with its summary
#   tools/bootstrap.sh test   run the whole test suite, in the release and the dev
#                             (ASan + UBSan) builds; both must agree on trace hashes
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ ccache pkg-config protobuf-compiler libprotobuf-dev libboost-dev
          libgtest-dev libgmock-dev libbenchmark-dev
          libimgui-dev libglfw3-dev libgl-dev libstb-dev xvfb xauth libgl1-mesa-dri)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing packages; run this, then try again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

# ccache (CMakeLists.txt uses it when installed): paths below the checkout are hashed
# relative to it, so a fresh clone in another folder reuses what an earlier build compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

build() {
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1"
}

case "${1:-}" in
  demo)
    install_missing
    build release
    scenarios=workloads/scenarios
    echo
    echo "== A broker pauses past its session; another takes its topic. Fencing OFF:"
    # An unsafe scenario exits 0 when it finds the anomaly it expects.
    ./build/release/bin/streamlab run $scenarios/zombie-broker-gc-pause.unsafe.textproto
    echo
    echo "== The same seed and faults, fencing ON (BookKeeper's recovery fences the bookies):"
    ./build/release/bin/streamlab run $scenarios/zombie-broker-gc-pause.safe.textproto
    echo
    echo "Watch both side by side in the GUI (on a desktop, or under xvfb-run):"
    echo "  build/release/bin/streamlab-gui $scenarios/zombie-broker-gc-pause.unsafe.textproto --seed 1"
    echo "Every scenario: build/release/bin/streamlab list"
    ;;
  test)
    install_missing
    build release
    ctest --preset release
    build dev
    ctest --preset dev
    ;;
  *)
    echo "usage: tools/bootstrap.sh demo|test" >&2
    exit 2
    ;;
esac
