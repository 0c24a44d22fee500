#!/usr/bin/env python3
"""A one-connection TLS server for tests/e2e/tls_libs.sh.

tls_server.py CERT KEY PORT MODE RECORD READY

Listens on 127.0.0.1:PORT (TLS, CERT/KEY), touches READY once listening,
takes one connection and writes every plaintext byte it receives to
RECORD, exactly as received, and the size of each piece that one
recv() returned (a TLS record or more) to RECORD.sizes.

MODE sip: reads one SIP request (headers, then Content-Length bytes of
body) and answers it with a 200 OK whose SDP carries an a=zrtp-hash
(Via, From, To, Call-ID and CSeq copied from the request).
MODE plain: reads until the plaintext ends in the line "END-OF-TEST\\n",
then answers a line that is not SIP.
Then it closes the session. Exit 0 on a complete exchange, 1 otherwise.
"""
import os
import re
import socket
import ssl
import sys

ANSWER_HASH = "1.10 " + "5a" * 32


def sip_complete(buf):
    """Length of the first complete SIP message in buf, or 0."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return 0
    head = buf[:end].decode("latin-1")
    m = re.search(r"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
    n = end + 4 + (int(m.group(1)) if m else 0)
    return n if len(buf) >= n else 0


def answer(req):
    head = req.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    keep = [h for h in head[1:]
            if re.match(r"(?i)(via|from|to|call-id|cseq)[ \t]*:", h)]
    sdp = ("v=0\r\n"
           "o=server 7 7 IN IP4 127.0.0.1\r\n"
           "s=-\r\n"
           "c=IN IP4 127.0.0.1\r\n"
           "t=0 0\r\n"
           "m=audio 12390 RTP/AVP 0\r\n"
           "a=rtpmap:0 PCMU/8000\r\n"
           "a=zrtp-hash:" + ANSWER_HASH + "\r\n")
    lines = (["SIP/2.0 200 OK"] + keep +
             ["Contact: <sip:server@127.0.0.1;transport=tls>",
              "Content-Type: application/sdp",
              "Content-Length: %d" % len(sdp), "", ""])
    return ("\r\n".join(lines) + sdp).encode("latin-1")


def main():
    cert, key, port, mode, record, ready = sys.argv[1:7]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(1)
    ls.settimeout(20)
    open(ready, "w").close()
    raw, _ = ls.accept()
    raw.settimeout(15)
    conn = ctx.wrap_socket(raw, server_side=True)
    got = b""
    ok = False
    sizes = []
    with open(record, "wb") as rec:
        while True:
            try:
                chunk = conn.recv(65536)
            except (socket.timeout, ssl.SSLError, OSError) as e:
                print("tls_server: %s" % e, file=sys.stderr)
                break
            if not chunk:
                break
            rec.write(chunk)
            sizes.append(len(chunk))
            rec.flush()
            got += chunk
            if mode == "sip" and sip_complete(got):
                conn.sendall(answer(got[:sip_complete(got)]))
                ok = True
                break
            if mode == "plain" and got.endswith(b"END-OF-TEST\n"):
                conn.sendall(b"plain reply: %d bytes, no SIP here\n" % len(got))
                ok = True
                break
    try:
        conn.settimeout(2)
        conn.unwrap()
    except (socket.timeout, ssl.SSLError, OSError, ValueError):
        pass
    conn.close()
    ls.close()
    with open(record + ".sizes", "w") as f:
        f.write(" ".join(str(n) for n in sizes) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
