#!/usr/bin/env bash
# Stage "facts": the machine and the software under test, as key <TAB> value lines in $PERF_WORK/facts.tsv.
source "$(dirname "$0")/common.sh"
STAGE_NAME=facts
out="$PERF_WORK/facts.tsv"
fact() { printf '%s\t%s\n' "$1" "$2" >>"$out"; }
pkg() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

fact "host" "$(hostname -s)"
fact "date" "$(date -u '+%Y-%m-%d %H:%M UTC')"
fact "CPU model" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
# A VM often shows only "AMD EPYC": the family and model name the generation (AMD family 25 models 0x10-0x1f
# and 0x60-0xaf are Zen 4, its others Zen 3; family 26 is Zen 5; 23 is Zen 1/2).
fact "CPU family / model" "$(awk -F': ' '/^vendor_id/ { v = $2 } /^cpu family/ { f = $2 }
  /^model[ \t]*:/ && !/name/ { m = $2 }
  END {
    g = ""
    if (v == "AuthenticAMD") {
      if (f == 23) g = "Zen 1/Zen 2"
      else if (f == 25) g = ((m >= 16 && m <= 31) || (m >= 96 && m <= 175)) ? "Zen 4" : "Zen 3"
      else if (f == 26) g = "Zen 5"
    }
    printf "%s family %s model %s%s", v, f, m, (g != "" ? " (AMD " g ")" : "")
  }' /proc/cpuinfo)"
flags=$(awk -F': ' '/^flags/ { print $2; exit }' /proc/cpuinfo)
relevant=$(tr ' ' '\n' <<<"$flags" | grep -E '^(avx|avx2|avx512.*|aes|vaes|pclmulqdq|vpclmulqdq|sha_ni|bmi2|adx)$' | sort | tr '\n' ' ')
fact "CPU flags (relevant)" "${relevant:-none of avx/avx2/avx512*/aes/vaes/pclmulqdq/vpclmulqdq/sha_ni}"
fact "CPUs" "$(nproc) online ($(lscpu 2>/dev/null | awk -F': *' '/^Thread\(s\) per core/ { t = $2 } /^Core\(s\) per socket/ { c = $2 } /^Socket\(s\)/ { s = $2 } END { printf "%s socket(s) x %s core(s) x %s thread(s)", s, c, t }'))"
fact "hypervisor" "$(lscpu 2>/dev/null | awk -F': *' '/^Hypervisor vendor/ { print $2 }' | grep . || echo none reported)"
fact "memory" "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
fact "hugepages" "$(awk '/^HugePages_Total/ { t = $2 } /^HugePages_Free/ { f = $2 } /^Hugepagesize/ { s = $2 " " $3 } END { printf "%s reserved, %s free, %s each", t, f, s }' /proc/meminfo) before the run; $([ "${PERF_HUGE:-0}" = 1 ] && echo "the gateway stage reserves and uses 2 MB pages (PERF_HUGE=1), the benchmarks run without" || echo "this run uses none (--no-huge everywhere)")"
fact "kernel" "$(uname -sr)"
fact "OS" "$(. /etc/os-release && echo "$PRETTY_NAME")"
fact "load average at start" "$(cut -d' ' -f1-3 /proc/loadavg)"
fact "DPDK" "$(pkg-config --modversion libdpdk 2>/dev/null || echo unknown) (Debian dpdk $(pkg dpdk))"
fact "crypto libraries" "intel-ipsec-mb $(pkg libipsec-mb1), libsodium $(pkg libsodium23)"
compiler=$(python3 - "$PERF_BUILD/meson-info/intro-compilers.json" <<'PY' 2>/dev/null || true
import json, sys
c = json.load(open(sys.argv[1]))["host"]["cpp"]
print(c["id"], c["full_version"].splitlines()[0] if c.get("full_version") else c["version"])
PY
)
fact "compiler" "${compiler:-$(c++ --version | head -1)}"
buildtype=$(python3 - "$PERF_BUILD/meson-info/intro-buildoptions.json" <<'PY' 2>/dev/null || true
import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
print(f'{o["buildtype"]}, b_ndebug={o["b_ndebug"]}, b_sanitize={o["b_sanitize"]}')
PY
)
fact "build" "$PERF_BUILD (${buildtype:-unknown})"
commit=$(git -C "$PERF_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$PERF_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi
fact "git commit" "$commit"
fact "peers" "wireguard-go $(pkg wireguard-go), iperf3 $(pkg iperf3), dpdk-testpmd $(pkg dpdk)"
