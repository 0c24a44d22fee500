#!/usr/bin/env python3
"""Measure the keyless classifier of `zrtpshim verify` on the fixtures.

Ground truth per RTP packet comes from its length, cross-checked with
tshark: G.711 at 20 ms is 160 payload bytes in clear and 170 as SRTP
(HS80 tag). For each class it prints the distribution of the content
statistic (chi-square z-score of the payload bytes against uniform, the
same formula as verify_payload_z) and how the content test alone
(z > 8: structured -> cleartext) would have done.
Usage: verify-measure.py PCAP PORT [PORT...]
"""
import math, subprocess, sys

def z_of(b):
    n = len(b)
    h = [0] * 256
    for x in b:
        h[x] += 1
    e = n / 256.0
    x2 = sum((c - e) ** 2 / e for c in h)
    return (x2 - 255.0) / math.sqrt(2 * 255.0 * (1 - 1.0 / n))

def main():
    pcap, ports = sys.argv[1], sys.argv[2:]
    args = ["tshark", "-r", pcap]
    for p in ports:
        args += ["-d", "udp.port==%s,rtp" % p]
    args += ["-Y", "rtp && rtp.version==2", "-T", "fields", "-e", "udp.payload"]
    out = subprocess.run(args, capture_output=True, text=True).stdout.split()
    cls = {"clear": [], "srtp": []}
    for hexs in out:
        b = bytes.fromhex(hexs.replace(":", ""))
        if b[1] >= 192 + 0 and b[1] <= 223:   # RTCP on a mux port
            continue
        pl = b[12:]
        if len(pl) == 160:
            cls["clear"].append(z_of(pl))
        elif len(pl) == 170:
            cls["srtp"].append(z_of(pl))
    for k, zs in cls.items():
        if not zs:
            continue
        zs.sort()
        miss = sum(1 for z in zs if (z <= 8) == (k == "clear"))
        print("%s: %-5s n=%4d z min %7.2f median %7.2f max %7.2f; content test alone wrong on %d"
              % (pcap.split("/")[-1], k, len(zs), zs[0], zs[len(zs) // 2], zs[-1], miss))

main()
