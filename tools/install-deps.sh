#!/usr/bin/env bash
# Installs every Debian 12 package wggate needs to build, test, run its lab and its benchmarks.
# Idempotent and non-interactive; waits for an apt/dpkg lock held by another process instead of failing.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  # libraries
  libdpdk-dev dpdk libipsec-mb-dev libsodium-dev libabsl-dev prometheus-cpp-dev
  libbenchmark-dev libgtest-dev libgmock-dev libb2-dev
  # the fleet (issue 16): etcd's JSON gateway over libcurl; a real etcd for the tests
  libcurl4-openssl-dev nlohmann-json3-dev etcd-server etcd-client
  # lab and end-to-end tests
  wireguard-go wireguard-tools iproute2 iputils-ping tcpdump tshark ethtool
  python3 curl netcat-openbsd procps prometheus
  # dpdk-dumpcap and dpdk-telemetry.py: Debian 12 ships them in dpdk-dev, not in dpdk
  dpdk-dev
  # perf/run.sh: dpdk-testpmd (in dpdk, above), iperf3 through wireguard-go, gnuplot for the plot
  iperf3 gnuplot-nox
)

if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# iperf3 asks whether to start a system-wide server; perf/run.sh starts its own in a namespace.
echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections
# etcd-server's package starts a system etcd on port 2379 where services may start (and fails the install
# where its start fails); the tests and the lab start etcds of their own. Deny service starts during the
# install unless a policy is in place already (container images have one).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# install-deps.sh: no service starts during the install\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
