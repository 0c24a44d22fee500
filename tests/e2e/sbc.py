#!/usr/bin/env python3
"""A two-party SIP proxy on UDP that puts rtpengine in the media path,
for tests/e2e/transcoder.sh: sbc.py LISTEN_PORT A_PORT B_PORT NG_PORT
[ng flags as JSON]. Everything from 127.0.0.1:A_PORT goes to B_PORT and
the other way round; requests get our Via on top and the INVITE a
Record-Route (so in-dialog requests come back here), responses lose our
Via, a Route naming us is dropped. SDP in an INVITE goes through
rtpengine's ng "offer" (with the flags given), SDP in a 2xx to INVITE
through "answer"; the body is replaced and Content-Length fixed. Nothing
else is touched. Runs until killed."""
import json, os, random, re, socket, sys

listen, a_port, b_port, ng_port = (int(x) for x in sys.argv[1:5])
offer_extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
HOST = '127.0.0.1'


def bencode(v):
    if isinstance(v, int):
        return b'i%de' % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b'%d:%s' % (len(v), v)
    if isinstance(v, list):
        return b'l' + b''.join(bencode(x) for x in v) + b'e'
    if isinstance(v, dict):
        return b'd' + b''.join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b'e'
    raise TypeError(v)


def bdecode(b, i=0):
    c = b[i:i + 1]
    if c == b'i':
        e = b.index(b'e', i)
        return int(b[i + 1:e]), e + 1
    if c in (b'l', b'd'):
        i += 1
        out = [] if c == b'l' else {}
        while b[i:i + 1] != b'e':
            k, i = bdecode(b, i)
            if c == b'l':
                out.append(k)
            else:
                v, i = bdecode(b, i)
                out[k.decode()] = v
        return out, i + 1
    colon = b.index(b':', i)
    n = int(b[i:colon])
    return b[colon + 1:colon + 1 + n], colon + 1 + n


ng = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ng.settimeout(3)


def ng_call(cmd):
    cookie = '%08x' % random.getrandbits(32)
    ng.sendto(cookie.encode() + b' ' + bencode(cmd), (HOST, ng_port))
    while True:
        data = ng.recv(65535)
        c, _, body = data.partition(b' ')
        if c.decode() == cookie:
            return bdecode(body)[0]


def header(head, name, compact):
    m = re.search(r'^(?:%s|%s)[ \t]*:[ \t]*(.*)$' % (name, compact), head,
                  re.I | re.M)
    return m.group(1).strip() if m else ''


def tag(v):
    m = re.search(r';\s*tag=([^;>\s]+)', v)
    return m.group(1) if m else ''


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((HOST, listen))
branch = 0
print('sbc: listening on %d' % listen, flush=True)
while True:
    data, src = sock.recvfrom(65535)
    try:
        text = data.decode('utf-8', 'surrogateescape')
    except Exception:
        continue
    if '\r\n\r\n' not in text:
        continue
    head, body = text.split('\r\n\r\n', 1)
    lines = head.split('\r\n')
    first = lines[0]
    is_req = not first.startswith('SIP/2.0')
    dst = b_port if src[1] == a_port else a_port
    cid = header(head, 'Call-ID', 'i')
    cseq = header(head, 'CSeq', '')
    method = first.split(' ', 1)[0] if is_req else cseq.split()[-1]
    hdrs = lines[1:]
    if is_req:
        branch += 1
        hdrs = ['Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKsbc%d' % (HOST, listen, branch)] + \
            [h for h in hdrs if not (re.match(r'^Route\s*:', h, re.I) and
                                     ('%s:%d' % (HOST, listen)) in h)]
        if method == 'INVITE' and not any(re.match(r'^Record-Route\s*:', h, re.I) for h in hdrs):
            hdrs.insert(1, 'Record-Route: <sip:%s:%d;lr>' % (HOST, listen))
    else:
        # our Via is the top one: drop it
        for i, h in enumerate(hdrs):
            if re.match(r'^(Via|v)\s*:', h, re.I):
                del hdrs[i]
                break
    ctype = header(head, 'Content-Type', 'c')
    if body and 'application/sdp' in ctype.lower() and method == 'INVITE':
        frm, to = header(head, 'From', 'f'), header(head, 'To', 't')
        cmd = {'call-id': cid, 'from-tag': tag(frm), 'sdp': body,
               'replace': ['origin', 'session-connection']}
        if is_req:
            cmd['command'] = 'offer'
            cmd.update(offer_extra)
        elif first.split()[1].startswith('2'):
            cmd['command'] = 'answer'
            cmd['to-tag'] = tag(to)
        else:
            cmd = None
        if cmd:
            r = ng_call(cmd)
            if r.get('result') != b'ok':
                print('sbc: rtpengine %s: %r' % (cmd['command'], r), flush=True)
            else:
                body = r['sdp'].decode()
                print('sbc: %s through rtpengine' % cmd['command'], flush=True)
    hdrs = [h for h in hdrs if not re.match(r'^(Content-Length|l)\s*:', h, re.I)]
    hdrs.append('Content-Length: %d' % len(body.encode('utf-8', 'surrogateescape')))
    out = '\r\n'.join([first] + hdrs) + '\r\n\r\n' + body
    sock.sendto(out.encode('utf-8', 'surrogateescape'), (HOST, dst))
