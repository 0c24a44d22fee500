"""tests/shim/late_media.sh's two sides, in one file.

client PORT SIPPORT OUT: under the shim. A thread blocks in recvfrom on
the media socket (127.0.0.1:PORT) BEFORE any SDP names it; then the main
thread sends an INVITE whose SDP offers that port, so the shim makes the
socket media while the receive is blocked. OUT gets, one per line, the
hex of the first bytes of every datagram the blocked receives return.

peer PORT: no shim. Sends the media socket a ZRTP HelloACK (valid
CRC-32C; the shim's, never the client's), then a datagram that is no
media (first byte 0x05: passed untouched), then stops.
"""
import socket
import sys
import threading
import time


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def helloack():
    # RFC 6189 §5: header (0x10, 0, seq, magic, SSRC), the message
    # (preamble 0x505a, length 3 words, "HelloACK"), CRC-32C little-endian
    pkt = bytes([0x10, 0, 0, 7]) + b"ZRTP" + bytes([0xCA, 0xFE, 0, 1])
    pkt += bytes([0x50, 0x5A, 0, 3]) + b"HelloACK"
    return pkt + crc32c(pkt).to_bytes(4, "little")


def client(port, sipport, out):
    m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    m.bind(("127.0.0.1", port))
    got = []

    def rx():
        for _ in range(2):
            data, _ = m.recvfrom(2048)
            got.append(data[:16].hex())

    t = threading.Thread(target=rx, daemon=True)
    t.start()
    time.sleep(0.5)
    sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
           "t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % port)
    inv = ("INVITE sip:bob@127.0.0.1:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKlate1\r\n"
           "From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n"
           "Call-ID: late-media-1\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:alice@127.0.0.1:%d>\r\nMax-Forwards: 70\r\n"
           "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
           % (sipport, sipport + 1, sipport + 1, len(sdp), sdp))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", sipport + 1))
    s.sendto(inv.encode(), ("127.0.0.1", sipport))
    t.join(6)
    with open(out, "w") as f:
        f.write("\n".join(got) + "\n")


def peer(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    time.sleep(1.5)
    s.sendto(helloack(), ("127.0.0.1", port))
    time.sleep(0.3)
    s.sendto(b"\x05not-media-1", ("127.0.0.1", port))
    time.sleep(0.3)
    s.sendto(b"\x05not-media-2", ("127.0.0.1", port))


if sys.argv[1] == "client":
    client(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
else:
    peer(int(sys.argv[2]))
