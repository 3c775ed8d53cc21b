#include "lib/net/inet.h"

#include <cstring>

#include "lib/net/byte_order.h"

namespace wg::net {
namespace {
// Adds `data` as big-endian 16-bit words (an odd last byte padded with zero) to a running sum. 64 bits
// cannot overflow for any buffer that fits in memory, so the carries are folded once, at the end.
std::uint64_t add_words(std::uint64_t sum, std::span<const std::uint8_t> data) {
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += load_be16(&data[i]);
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i]) << 8;
  return sum;
}

std::uint16_t fold_and_complement(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}
}  // namespace

std::uint16_t inet_checksum(std::span<const std::uint8_t> data) {
  return fold_and_complement(add_words(0, data));
}

std::uint16_t icmp6_checksum(std::span<const std::uint8_t, 16> src, std::span<const std::uint8_t, 16> dst,
                             std::span<const std::uint8_t> icmp) {
  // RFC 8200 section 8.1 pseudo-header: source, destination, 32-bit upper-layer length, 3 zero bytes, next
  // header. Summing the length and next header as words gives the same result as laying the bytes out.
  std::uint64_t sum = add_words(add_words(0, src), dst);
  sum += (icmp.size() >> 16) + (icmp.size() & 0xffff) + kProtoIcmpv6;
  return fold_and_complement(add_words(sum, icmp));
}

void write_ipv4_header(std::uint8_t* out, std::uint32_t src_be, std::uint32_t dst_be, std::uint8_t proto,
                       std::uint16_t total_len, std::uint16_t id) {
  out[0] = 0x45;
  out[1] = 0;
  store_be16(out + 2, total_len);
  store_be16(out + 4, id);
  store_be16(out + 6, 0x4000);  // DF
  out[8] = 64;
  out[9] = proto;
  store_be16(out + 10, 0);
  std::memcpy(out + 12, &src_be, 4);
  std::memcpy(out + 16, &dst_be, 4);
  store_be16(out + 10, inet_checksum(std::span<const std::uint8_t>(out, kIpv4HeaderLen)));
}

void write_ipv6_header(std::uint8_t* out, std::span<const std::uint8_t, 16> src,
                       std::span<const std::uint8_t, 16> dst, std::uint8_t next_header,
                       std::uint16_t payload_len, std::uint8_t hop_limit) {
  store_be32(out, 0x60000000);  // version 6, traffic class 0, flow label 0
  store_be16(out + 4, payload_len);
  out[6] = next_header;
  out[7] = hop_limit;
  std::memcpy(out + 8, src.data(), 16);
  std::memcpy(out + 24, dst.data(), 16);
}

std::size_t build_icmp_echo(std::span<std::uint8_t> out, std::uint32_t src_be, std::uint32_t dst_be,
                            std::uint8_t type, std::uint16_t ident, std::uint16_t seq,
                            std::span<const std::uint8_t> payload) {
  const std::size_t len = kIpv4HeaderLen + kIcmpEchoHeaderLen + payload.size();
  if (len > out.size() || len > 0xffff) return 0;
  write_ipv4_header(out.data(), src_be, dst_be, kProtoIcmp, static_cast<std::uint16_t>(len), seq);
  std::uint8_t* icmp = out.data() + kIpv4HeaderLen;
  icmp[0] = type;
  icmp[1] = 0;
  store_be16(icmp + 2, 0);
  store_be16(icmp + 4, ident);
  store_be16(icmp + 6, seq);
  if (!payload.empty()) std::memcpy(icmp + kIcmpEchoHeaderLen, payload.data(), payload.size());
  store_be16(icmp + 2, inet_checksum(std::span<const std::uint8_t>(icmp, kIcmpEchoHeaderLen + payload.size())));
  return len;
}

bool parse_icmp_echo(std::span<const std::uint8_t> packet, IcmpEcho& out) {
  if (packet.size() < kIpv4HeaderLen + kIcmpEchoHeaderLen || packet[0] >> 4 != 4) return false;
  const std::size_t ihl = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  const std::size_t total = load_be16(&packet[2]);
  // A WireGuard payload is padded: the IP total length says where the packet really ends.
  if (ihl < kIpv4HeaderLen || total > packet.size() || total < ihl + kIcmpEchoHeaderLen) return false;
  if (packet[9] != kProtoIcmp) return false;
  if (inet_checksum(packet.first(ihl)) != 0) return false;
  const auto icmp = packet.subspan(ihl, total - ihl);
  if (inet_checksum(icmp) != 0) return false;
  if (icmp[0] != kIcmpEchoRequest && icmp[0] != kIcmpEchoReply) return false;
  std::memcpy(&out.src_be, &packet[12], 4);
  std::memcpy(&out.dst_be, &packet[16], 4);
  out.type = icmp[0];
  out.ident = load_be16(&icmp[4]);
  out.seq = load_be16(&icmp[6]);
  out.payload = icmp.subspan(kIcmpEchoHeaderLen);
  return true;
}

}  // namespace wg::net
