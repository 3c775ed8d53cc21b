# The gateway topology shared by the lab and the gateway end-to-end tests (sourced after lib.sh):
#
#   [client ns]                 [gw ns: wggate]                      [remote ns: wireguard-go]
#   in-host 10.61.0.2/24  ---  in-gw (net_af_packet0)  out-gw (net_af_packet1)  ---  out-remote 172.31.61.2/24
#           fd61::2/64         Inside 10.61.0.1/24,fd61::1/64   Outside 172.31.61.1/24,fd62::1/64    fd62::2/64
#                                                                     wg tunnel: 10.62.0.1/24, fd63::1/64
# The client routes everything to the gateway; wireguard-go routes the client's subnets into its tunnel.
# Names carry $E2E_SUFFIX so that runs never collide; lib.sh's cleanup removes everything.

GW_BIN=${GW_BIN:-}
gw_setup_topology() {
  ns_client="gwc-$E2E_SUFFIX"; ns_gw="gwg-$E2E_SUFFIX"; ns_remote="gwr-$E2E_SUFFIX"
  wg_if="wgr$((E2E_SUFFIX % 100000))"
  add_netns "$ns_client"; add_netns "$ns_gw"; add_netns "$ns_remote"
  veth_pair "$ns_client" in-host 10.61.0.2/24 "$ns_gw" in-gw 0.0.0.0/32
  veth_pair "$ns_gw" out-gw 0.0.0.0/32 "$ns_remote" out-remote 172.31.61.2/24
  # The gateway's veth ends belong to DPDK (af_packet): no kernel addresses, no kernel IPv6 chatter.
  ip -n "$ns_gw" addr flush dev in-gw; ip -n "$ns_gw" addr flush dev out-gw
  ip netns exec "$ns_gw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$ns_client" addr add fd61::2/64 dev in-host nodad
  ip -n "$ns_remote" addr add fd62::2/64 dev out-remote nodad
  ip -n "$ns_client" route add default via 10.61.0.1
  ip -n "$ns_client" -6 route add default via fd61::1
  # Checksum offload on a veth leaves partial checksums that af_packet forwards as they are.
  ip netns exec "$ns_client" ethtool -K in-host tx off >/dev/null
  ip netns exec "$ns_remote" ethtool -K out-remote tx off >/dev/null

  gw_key=$(wg genkey); gw_pub=$(echo "$gw_key" | wg pubkey)
  remote_key=$(wg genkey); remote_pub=$(echo "$remote_key" | wg pubkey)
  echo "$remote_key" > "$E2E_TMP/remote.key"; chmod 600 "$E2E_TMP/remote.key"
  start_wireguard_go "$ns_remote" "$wg_if"; remote_wg_pid=$SPAWNED_PID
  ip netns exec "$ns_remote" wg set "$wg_if" private-key "$E2E_TMP/remote.key" listen-port 51820 \
    peer "$gw_pub" allowed-ips 10.61.0.0/24,fd61::/64 endpoint 172.31.61.1:51820
  ip -n "$ns_remote" addr add 10.62.0.1/24 dev "$wg_if"
  ip -n "$ns_remote" addr add fd63::1/64 dev "$wg_if" nodad
  ip -n "$ns_remote" link set "$wg_if" up mtu 1420
  ip -n "$ns_remote" route add 10.61.0.0/24 dev "$wg_if"
  ip -n "$ns_remote" -6 route add fd61::/64 dev "$wg_if"
}

# Writes the gateway config; extra [Peer] lines may be appended by the caller.
gw_write_config() {
  cat > "$E2E_TMP/wggate.conf" <<CONF
[Interface]
PrivateKey = $gw_key
ListenPort = 51820

[Peer]
# the remote node (wireguard-go)
PublicKey = $remote_pub
AllowedIPs = 10.62.0.0/24, fd63::/64
Endpoint = 172.31.61.2:51820

[Gateway]
# The UAPI socket directory is shared by all namespaces: every run needs its own name.
Name = wgg$((E2E_SUFFIX % 100000))
InsidePort = net_af_packet0
OutsidePort = net_af_packet1
InsideAddress = 10.61.0.1/24, fd61::1/64
OutsideAddress = 172.31.61.1/24, fd62::1/64
MTU = 1420
CONF
  # CRYPTO_ENGINE=simd|ipsec-mb|sodium runs the same scenarios on another batch engine.
  [ -z "${CRYPTO_ENGINE:-}" ] || echo "CryptoEngine = $CRYPTO_ENGINE" >> "$E2E_TMP/wggate.conf"
  # HANDSHAKE_THREADS=K: the handshakes' X25519 work on K threads (default 1; 0: on the control thread).
  [ -z "${HANDSHAKE_THREADS:-}" ] || echo "HandshakeThreads = $HANDSHAKE_THREADS" >> "$E2E_TMP/wggate.conf"
  chmod 600 "$E2E_TMP/wggate.conf"  # it holds a key
}

# Starts wggate in the gateway namespace (WORKERS workers, default 1) and waits for its start-up line.
gw_start() {
  local workers=${WORKERS:-1}
  # More lcores than cores is fine for correctness (not speed): map lcores 0..workers onto the CPUs we have.
  local lcores="(0-$workers)@(0-$(($(nproc) - 1)))"
  # LCORES replaces that mapping (e.g. '0@0,1@1,2@0,3@1,4@1': named lcores on named CPUs).
  lcores=${LCORES:-$lcores}
  # AF_PACKET_FRAMES: frames in each af_packet queue's PACKET_MMAP ring (the PMD's framecnt devarg; default
  # 512). With the default 2048-byte frames in 4096-byte blocks it must be even (2 frames a block). A ring
  # that fills to ~3/4 makes the kernel's fanout roll the flow over to another queue (another worker).
  local ring=${AF_PACKET_FRAMES:+,framecnt=$AF_PACKET_FRAMES}
  # Default: anonymous memory (--no-huge), no setup needed. HUGE=1: 2 MB hugepages from the hugetlbfs mount
  # HUGE_DIR (the caller mounts it and reserves the pages), as DPDK multi-process (dpdk-dumpcap) needs; no -m:
  # EAL maps pages as it needs them, so the reservation only has to cover what wggate really uses.
  # GW_MEM_MB: EAL memory in MB (default 512; 100,000 peers need about 1024 for their AllowedIPs tables).
  local mem=(--no-huge -m "${GW_MEM_MB:-512}")
  if [ "${HUGE:-0}" = 1 ]; then mem=(--huge-dir "${HUGE_DIR:?HUGE=1 needs HUGE_DIR, a hugetlbfs mount}"); fi
  spawn wggate ip netns exec "$ns_gw" "$GW_BIN" "${mem[@]}" --no-pci --lcores "$lcores" \
    --file-prefix "wggate-$E2E_SUFFIX" --log-level=lib.eal:error \
    --vdev "net_af_packet0,iface=in-gw,qpairs=$((workers + 1))$ring" \
    --vdev "net_af_packet1,iface=out-gw,qpairs=$((workers + 1))$ring" \
    -- --config "$E2E_TMP/wggate.conf" --verbose
  gw_pid=$SPAWNED_PID
  on_cleanup "rm -rf /var/run/dpdk/wggate-$E2E_SUFFIX"
  # Wait for the start-up line, but fail at once if wggate exited (a config or port error).
  local end=$((SECONDS + 30))
  until grep -q "listening on UDP" "$E2E_TMP/wggate.log"; do
    kill -0 "$gw_pid" 2>/dev/null || fail "wggate exited during start-up: $(tail -n 5 "$E2E_TMP/wggate.log")"
    [ "$SECONDS" -lt "$end" ] || fail "timed out after 30s waiting for wggate to start"
    sleep 0.2
  done
}

# Loss forensics for tests that count echoes: gw_counters FILE keeps every drop-like counter of the gateway
# (drops by reason, control drops, full rings, port misses and pool failures) as "name{labels} value" lines;
# gw_counters_grown FILE says which of them grew since, or that none did (then the loss happened outside the
# gateway: the kernel's veths and sockets, or wireguard-go, on a machine short of CPU).
gw_counters() {
  ip netns exec "$ns_gw" curl -sf --max-time 5 http://127.0.0.1:9586/metrics 2>/dev/null |
    awk '/^wggate_[a-z_]*(drops|full|imissed|nombuf|refused|dropped)[a-z_]*[{ ]/ { print $1, $2 }' >"$1" || true
}
gw_counters_grown() {
  local now
  now=$(mktemp)
  gw_counters "$now"
  awk 'NR == FNR { was[$1] = $2; next } ($2 + 0) > (was[$1] + 0) { printf "%s +%d; ", $1, $2 - was[$1]; n++ }
       END { if (!n) printf "no gateway drop counter grew" }' "$1" "$now"
  rm -f "$now"
}
