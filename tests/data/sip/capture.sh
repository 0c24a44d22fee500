#!/bin/sh
# Regenerate the SIP corpus of tests/data/sip from real calls on 127.0.0.1:
# sipp <-> sipp (UDP, re-INVITE, TCP), baresip <-> baresip (hold/resume),
# linphonec <-> linphonec (ZRTP with hold/resume, no encryption, TCP with
# keep-alives), baresip -> linphonec and linphonec -> baresip.
#
# usage (root, needs tcpdump): capture.sh [OUTDIR [PCAPDIR]]
#   OUTDIR   where the .sip/.expect files and tcp/*.stream go
#            (default: a fresh /tmp/zrtpshim-sipcorpus.XXXXXX)
#   PCAPDIR  where the SIP-only pcaps go (default: OUTDIR/pcap)
# Packages: baresip-core linphone-cli sip-tester tcpdump sox python3.
#
# Every run makes new Call-IDs, tags, ports and zrtp-hashes, so the .expect
# files are re-drafted (only where none exists yet) by an independent SDP
# reading in python; CHECK THEM BY EYE before committing. Not part of
# `make check`. Ports used: SIP 5371/5373 (baresip, +TLS 5372/5374),
# 5381/5383 (linphonec UDP), 5385/5387 (linphonec TCP), 5390/5391 (sipp);
# RTP 10100-10219, 7178-7328, 16200/16300; ctrl_tcp 4451/4452.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SCEN=$HERE/scenarios
OUT=${1:-$(mktemp -d /tmp/zrtpshim-sipcorpus.XXXXXX)}
mkdir -p "$OUT/tcp"
OUT=$(cd "$OUT" && pwd)
PCAPS=${2:-$OUT/pcap}
mkdir -p "$PCAPS"
PCAPS=$(cd "$PCAPS" && pwd)
W=$(mktemp -d /tmp/zrtpshim-sipcap.XXXXXX)
cd "$W"

TP=
stopcap() { if [ -n "$TP" ]; then sleep 0.5; kill "$TP" 2>/dev/null || :; wait "$TP" 2>/dev/null || :; TP=; fi; }
trap 'stopcap' EXIT INT TERM
startcap() { # PCAPNAME FILTER
	tcpdump -i lo -U -s 0 -w "$PCAPS/$1.pcap" "$2" 2>/dev/null &
	TP=$!
	sleep 1
}

# ---- helpers (python3) ----------------------------------------------------
cat > pcap2sip.py <<'EOF'
#!/usr/bin/env python3
"""Extract SIP messages from a classic pcap (tcpdump -w).
usage: pcap2sip.py list PCAP              -- one line per SIP datagram
       pcap2sip.py udp PCAP OUTDIR PREFIX [SEQ [KEEP]] -- write PREFIX-NN-<short>.sip
       pcap2sip.py tcp PCAP [src:|dst:]PORT OUT -- one TCP direction's bytes
Handles DLT_EN10MB (Linux lo), DLT_LINUX_SLL and DLT_RAW; IPv4 only."""
import os, re, struct, sys

def packets(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = '<'
    else:
        e = '>'
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        ts, tus, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            if struct.unpack('>H', pkt[12:14])[0] != 0x0800:
                continue
            ip = pkt[14:]
        elif linktype == 113:
            if struct.unpack('>H', pkt[14:16])[0] != 0x0800:
                continue
            ip = pkt[16:]
        elif linktype in (12, 101):
            ip = pkt
        else:
            sys.exit('unsupported linktype %d' % linktype)
        if ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack('>H', ip[2:4])[0]
        proto = ip[9]
        src = '.'.join(map(str, ip[12:16]))
        dst = '.'.join(map(str, ip[16:20]))
        l4 = ip[ihl:tot]
        yield ts + tus / 1e6, proto, src, dst, l4

START = re.compile(rb'^(SIP/2\.0 \d{3} |[A-Z]+ \S+ SIP/2\.0\r?\n)')

def udp_sip(path):
    for t, proto, src, dst, l4 in packets(path):
        if proto != 17:
            continue
        sp, dp, ln = struct.unpack('>HHH', l4[:6])
        pl = l4[8:ln]
        if START.match(pl) or pl in (b'\r\n', b'\r\n\r\n'):
            yield t, src, sp, dst, dp, pl

def short(pl):
    first = pl.split(b'\r\n', 1)[0].split(b'\n', 1)[0].decode('latin-1')
    cseq = re.search(rb'(?im)^CSeq[ \t]*:[ \t]*(\d+)[ \t]+(\S+)', pl)
    if first.startswith('SIP/2.0'):
        code = first.split()[1]
        return code + '-' + (cseq.group(2).decode().lower() if cseq else 'x')
    if not first.strip():
        return 'keepalive'
    return first.split()[0].lower()

def main():
    cmd = sys.argv[1]
    if cmd == 'list':
        for i, (t, s, sp, d, dp, pl) in enumerate(udp_sip(sys.argv[2]), 1):
            first = pl.split(b'\n', 1)[0].strip().decode('latin-1')
            print('%02d %.3f %s:%d -> %s:%d %4d  %s' % (i, t, s, sp, d, dp, len(pl), first))
    elif cmd == 'udp':
        # udp PCAP OUTDIR PREFIX [SEQ [KEEP]]: SEQ is the comma-separated
        # list of <short> names the capture must show (else everything is
        # written and a warning printed); KEEP the comma-separated indexes.
        outdir, prefix = sys.argv[3], sys.argv[4]
        msgs = list(udp_sip(sys.argv[2]))
        seq = ','.join(short(m[5]) for m in msgs)
        keep = None
        if len(sys.argv) > 5:
            if seq != sys.argv[5]:
                sys.stderr.write('WARNING %s: expected %s\n  got %s\n  writing every message\n'
                                 % (prefix, sys.argv[5], seq))
            elif len(sys.argv) > 6:
                keep = set(int(x) for x in sys.argv[6].split(','))
        for i, (t, s, sp, d, dp, pl) in enumerate(msgs, 1):
            if keep is not None and i not in keep:
                continue
            name = os.path.join(outdir, '%s-%02d-%s.sip' % (prefix, i, short(pl)))
            with open(name, 'wb') as f:
                f.write(pl)
            print(name)
    elif cmd == 'tcp':
        which, _, port = sys.argv[3].rpartition(':')   # [src:|dst:]PORT
        port = int(port)
        segs = {}
        for t, proto, src, dst, l4 in packets(sys.argv[2]):
            if proto != 6:
                continue
            sp, dp, seq = struct.unpack('>HHI', l4[:8])
            if (dp if which == 'dst' else sp) != port:
                continue
            doff = (l4[12] >> 4) * 4
            pl = l4[doff:]
            if pl:
                segs.setdefault(seq, pl)   # drop retransmissions
        out = b''.join(segs.values())      # loopback: capture order is stream order
        with open(sys.argv[4], 'wb') as f:
            f.write(out)
        print('%s: %d bytes in %d segments' % (sys.argv[4], len(out), len(segs)))
    else:
        sys.exit(__doc__)

main()
EOF
cat > ctrl.py <<'EOF'
#!/usr/bin/env python3
"""Drive baresip over ctrl_tcp: ctrl.py PORT 'cmd[ params]' SLEEP 'cmd' SLEEP ..."""
import json, socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(('127.0.0.1', port), timeout=5)
for i, a in enumerate(sys.argv[2:]):
    if i % 2:
        time.sleep(float(a)); continue
    cmd, _, params = a.partition(' ')
    msg = json.dumps({'command': cmd, 'params': params, 'token': str(i)}).encode()
    s.sendall(b'%d:%s,' % (len(msg), msg))
    time.sleep(0.2)
    s.setblocking(False)
    try:
        print(s.recv(4096).decode(errors='replace'))
    except BlockingIOError:
        pass
    s.setblocking(True)
EOF
cat > sipexpect.py <<'EOF'
#!/usr/bin/env python3
"""Draft the .expect view of SIP messages (an independent reading, not the
code under test). usage: sipexpect.py FILE.sip... -> prints FILE's view;
sipexpect.py -w FILE.sip... writes FILE.expect next to each unless it
exists; sipexpect.py -frames FILE.stream prints its framing."""
import re, sys

COMPACT = {'i': 'call-id', 'l': 'content-length', 'c': 'content-type',
           'f': 'from', 't': 'to', 'v': 'via', 'm': 'contact', 'e': 'content-encoding',
           'k': 'supported', 's': 'subject'}

def view(raw):
    m = re.search(rb'\r?\n\r?\n', raw)
    head, body = (raw[:m.start()], raw[m.end():]) if m else (raw, b'')
    lines = re.split(r'\r?\n', head.decode('latin-1'))
    start, hdrs = lines[0], []
    for ln in lines[1:]:
        if ln[:1] in (' ', '\t') and hdrs:
            hdrs[-1][1] += ' ' + ln.strip()
            continue
        name, _, val = ln.partition(':')
        name = name.strip().lower()
        hdrs.append([COMPACT.get(name, name), val.strip()])
    def get(n):
        v = [h[1] for h in hdrs if h[0] == n]
        return v[0] if v else None
    out = []
    cseq = get('cseq').split()
    if start.startswith('SIP/2.0 '):
        out += ['kind response', 'method ' + cseq[1], 'status ' + start.split()[1]]
    else:
        out += ['kind request', 'method ' + start.split()[0]]
    out += ['call-id ' + get('call-id'), 'cseq ' + cseq[0]]
    cl = get('content-length')
    out.append('content-length ' + (str(int(cl)) if cl is not None else 'none'))
    if cl is not None:
        body = body[:int(cl)]
    ct = (get('content-type') or '').split(';')[0].strip().lower()
    if ct != 'application/sdp' or not body:
        out.append('sdp no')
        return out
    out.append('sdp yes')
    sess_c, sess_dir, media = None, 'sendrecv', []
    for ln in re.split(r'\r?\n', body.decode('latin-1')):
        if len(ln) < 2 or ln[1] != '=':
            continue
        k, v = ln[0], ln[2:]
        cur = media[-1] if media else None
        if k == 'm':
            f = v.split()
            port = f[1].split('/')[0]
            media.append({'type': f[0], 'port': int(port), 'proto': f[2], 'c': None,
                          'rtcp': None, 'mux': 0, 'dir': None, 'zh': 'none'})
        elif k == 'c':
            f = v.split()
            val = (f[2].split('/')[0], f[1])
            if cur: cur['c'] = val
            else: sess_c = val
        elif k == 'a':
            name, _, val = v.partition(':')
            if name in ('sendrecv', 'sendonly', 'recvonly', 'inactive'):
                if cur: cur['dir'] = name
                else: sess_dir = name
            elif cur and name == 'rtcp':
                cur['rtcp'] = int(val.split()[0])
            elif cur and name == 'rtcp-mux':
                cur['mux'] = 1
            elif cur and name == 'zrtp-hash':
                cur['zh'] = val.split()[1]
    for i, md in enumerate(media):
        c = md['c'] or sess_c
        addr, fam = (c[0], {'IP4': '4', 'IP6': '6'}.get(c[1], '0')) if c else ('-', '0')
        rtcp = md['rtcp'] if md['rtcp'] is not None else md['port'] + 1
        prot = int(md['proto'].upper() in ('RTP/AVP', 'RTP/AVPF', 'RTP/SAVP', 'RTP/SAVPF',
                                           'UDP/TLS/RTP/SAVP', 'UDP/TLS/RTP/SAVPF')
                   and md['port'] != 0)
        out.append('media %d %s port=%d proto=%s addr=%s family=%s rtcp=%d rtcp-mux=%d '
                   'dir=%s protectable=%d zrtp-hash=%s' % (
                       i, md['type'], md['port'], md['proto'], addr, fam, rtcp,
                       md['mux'], md['dir'] or sess_dir, prot, md['zh']))
    return out

def frames(data):
    """Frame a one-direction SIP/TCP byte stream: runs of CR/LF between
    messages are pass-through (keep-alives), a message is its headers up
    to the blank line plus Content-Length body bytes."""
    out, pos = [], 0
    while pos < len(data):
        if data[pos:pos + 1] in (b'\r', b'\n'):
            end = pos
            while end < len(data) and data[end:end + 1] in (b'\r', b'\n'):
                end += 1
            out.append('passthrough %d %d' % (pos, end - pos))
            pos = end
            continue
        m = re.compile(rb'\r?\n\r?\n').search(data, pos)
        head = data[pos:m.start()].decode('latin-1')
        cl = re.search(r'(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)', head)
        end = m.end() + int(cl.group(1))
        first = head.split('\n', 1)[0].strip()
        out.append('message %d %d %s' % (pos, end - pos, first))
        pos = end
    return out

if sys.argv[1] == '-frames':
    print('\n'.join(frames(open(sys.argv[2], 'rb').read())))
    sys.exit(0)
write = sys.argv[1] == '-w'
for fn in sys.argv[2 if write else 1:]:
    text = '\n'.join(view(open(fn, 'rb').read())) + '\n'
    if write:
        import os
        ex = fn[:-4] + '.expect'
        if not os.path.exists(ex):
            open(ex, 'w').write(text)
    else:
        print('== ' + fn); print(text, end='')
EOF
extract() { # PCAPNAME PREFIX SEQ KEEP
	python3 pcap2sip.py udp "$PCAPS/$1.pcap" "$OUT" "$2" "$3" "$4"
}

# ---- media -----------------------------------------------------------------
sox -n -r 8000 -c 1 -b 16 -e signed-integer tone.wav synth 10 sine 440 vol 0.3
sox tone.wav -t raw -e u-law -r 8000 -c 1 tone.ulaw

# ---- sipp <-> sipp ------------------------------------------------------------
sipp_call() { # PCAPNAME UAS.xml UAC.xml TRANSPORT(u1|t1) FILTER
	startcap "$1" "$5"
	timeout -k 5 20 sipp -sf "$SCEN/$2" -t "$4" -i 127.0.0.1 -p 5390 -bind_local \
		-mi 127.0.0.1 -mp 16300 -cp 8990 -m 1 -nostdin >sipp-uas.log 2>&1 &
	UP=$!
	sleep 0.5
	timeout -k 5 20 sipp 127.0.0.1:5390 -sf "$SCEN/$3" -t "$4" -i 127.0.0.1 -p 5391 -bind_local \
		-mi 127.0.0.1 -mp 16200 -cp 8991 -m 1 -nostdin >sipp-uac.log 2>&1 || echo "sipp UAC failed: $1"
	wait $UP || echo "sipp UAS failed: $1"
	stopcap
}
UDPF='udp and host 127.0.0.1 and (port 5390 or port 5391)'
sipp_call sipp-basic uas.xml uac.xml u1 "$UDPF"
extract sipp-basic sipp-basic invite,100-invite,180-invite,200-invite,ack,bye,200-bye 1,2,3,4,5,6,7
sipp_call sipp-reinvite uas-reinvite.xml uac-reinvite.xml u1 "$UDPF"
extract sipp-reinvite sipp-reinvite \
	invite,100-invite,180-invite,200-invite,ack,invite,100-invite,200-invite,ack,bye,200-bye 6,7,8,9
sipp_call sipp-tcp uas.xml uac.xml t1 'tcp and host 127.0.0.1 and port 5390'
python3 pcap2sip.py tcp "$PCAPS/sipp-tcp.pcap" dst:5390 "$OUT/tcp/sipp-basic-uac.stream"
python3 pcap2sip.py tcp "$PCAPS/sipp-tcp.pcap" src:5390 "$OUT/tcp/sipp-basic-uas.stream"

# ---- baresip -----------------------------------------------------------------
mkbaresip() { # DIR USER SIPPORT CTRLPORT RTPLO RTPHI RTCPMUX
	mkdir -p "$1/snd"
	: >"$1/contacts"
	cat >"$1/config" <<EOF
poll_method		epoll
sip_listen		127.0.0.1:$3
net_interface		127.0.0.1
audio_source		aufile,$W/tone.wav
rtp_ports		$5-$6
rtcp_mux		$7
jitter_buffer_delay	5-10
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			sndfile.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
snd_path		$W/$1/snd
ctrl_tcp_listen		127.0.0.1:$4
EOF
	echo "<sip:$2@127.0.0.1:$3>;regint=0;answermode=auto;audio_codecs=PCMU;ptime=20" >"$1/accounts"
}
mkbaresip ba alice 5371 4451 10100 10119 no
mkbaresip bam alice 5371 4451 10100 10119 yes
mkbaresip bb bob 5373 4452 10200 10219 no

# baresip alice -> baresip bob: call, hold (re-INVITE a=sendonly), resume, hang up
startcap baresip-hold 'udp and host 127.0.0.1 and (port 5371 or port 5373)'
timeout -k 5 16 baresip -f bb -t 14 >bb.log 2>&1 &
BP=$!
timeout -k 5 16 baresip -f ba -t 14 >ba.log 2>&1 &
AP=$!
sleep 1.5
timeout -k 5 12 python3 ctrl.py 4451 "dial sip:bob@127.0.0.1:5373" 2 hold 1.5 resume 1.5 hangup 0.5 quit 0.5 >/dev/null || :
timeout -k 5 3 python3 ctrl.py 4452 quit 0.3 >/dev/null || :
wait $AP || :
wait $BP || :
stopcap
extract baresip-hold baresip-hold \
	invite,180-invite,200-invite,ack,invite,200-invite,ack,invite,200-invite,ack,bye,200-bye 1,2,3,4,5,6,8,11,12

# ---- linphonec ---------------------------------------------------------------
mklinphone() { # DIR USER SIPPORT RTPPORT
	mkdir -p "$1/home/.local/share/linphone"
	cat >"$1/rc.tmpl" <<EOF
[sip]
sip_port=$3
sip_tcp_port=0
sip_tls_port=0
bind_address=127.0.0.1
use_ipv6=0
contact=sip:$2@127.0.0.1:$3
media_encryption=zrtp
media_encryption_mandatory=0
guess_hostname=0
register_only_when_network_is_up=0
auto_net_state_mon=0

[net]
firewall_policy=0

[rtp]
bind_address=127.0.0.1
audio_rtp_port=$4
video_rtp_port=$(($4 + 50))
rtcp_mux=0
audio_jitt_comp=60

[video]
enabled=0
capture=0
display=0
automatically_initiate=0
automatically_accept=0

[sound]
echocancellation=0

[audio_codec_0]
mime=PCMU
rate=8000
channels=1
enabled=1

[audio_codec_1]
mime=PCMA
rate=8000
channels=1
enabled=0

[audio_codec_2]
mime=opus
rate=48000
channels=2
enabled=0

[audio_codec_3]
mime=speex
rate=8000
channels=1
enabled=0

[audio_codec_4]
mime=telephone-event
rate=8000
channels=1
enabled=1
EOF
}
mklinphone la alice 5381 7178
mklinphone lb bob 5383 7278
# linphonec rewrites its rc: a fresh copy per run, edited by sed expressions
lrc() { # DIR SED-EXPR...
	d=$1; shift
	cp "$d/rc.tmpl" "$d/rc"
	for e in "$@"; do sed -i "$e" "$d/rc"; done
}
callee_linphone() { # DIR SECONDS [linphonec args]
	d=$1; s=$2; shift 2
	( echo "soundcard use files"; echo "play $W/tone.wav"; echo "record $W/$d/rec.wav"
	  sleep "$s"; echo quit; sleep 1 ) |
		HOME=$W/$d/home timeout -k 5 $((s + 4)) linphonec -c "$W/$d/rc" -a "$@" >"$d.log" 2>&1
}
caller_linphone() { # DIR URI "cmd sleep cmd sleep ..." [linphonec args]
	d=$1; uri=$2; script=$3; shift 3
	( echo "soundcard use files"; echo "play $W/tone.wav"; echo "record $W/$d/rec.wav"
	  echo "call $uri"
	  set -- $script
	  while [ $# -ge 2 ]; do sleep "$1"; echo "$2"; shift 2; done
	  sleep 1.5; echo quit; sleep 1 ) |
		HOME=$W/$d/home timeout -k 5 20 linphonec -c "$W/$d/rc" "$@" >"$d.log" 2>&1
}
LPF='udp and host 127.0.0.1 and (port 5381 or port 5383)'

# linphonec <-> linphonec, ZRTP (optional), hold and resume
lrc la; lrc lb
startcap linphonec-zrtphold "$LPF"
callee_linphone lb 15 &
BP=$!
sleep 2
caller_linphone la sip:bob@127.0.0.1:5383 "4 pause 2 resume 2.5 terminate"
wait $BP || :
stopcap
grep -h 'fully encrypted' la.log lb.log || echo "linphonec-zrtphold: no SAS line (ZRTP failed?)"
extract linphonec-zrtphold linphonec-zrtphold \
	invite,100-invite,180-invite,200-invite,ack,invite,100-invite,200-invite,ack,invite,100-invite,200-invite,ack,bye,200-bye \
	1,2,3,4,5,6,8,10,12,14,15

# linphonec <-> linphonec, media_encryption=none
lrc la 's/^media_encryption=zrtp/media_encryption=none/'
lrc lb 's/^media_encryption=zrtp/media_encryption=none/'
startcap linphonec-plain "$LPF"
callee_linphone lb 11 &
BP=$!
sleep 2
caller_linphone la sip:bob@127.0.0.1:5383 "4 terminate"
wait $BP || :
stopcap
extract linphonec-plain linphonec-plain invite,100-invite,180-invite,200-invite,ack,bye,200-bye 1,4

# linphonec <-> linphonec over TCP (ZRTP), 1 s keep-alives: raw streams
TCPX='s/^sip_tls_port=0/sip_tls_port=0\nkeepalive_period=1000/'
lrc la 's/^sip_port=5381/sip_port=0/' 's/^sip_tcp_port=0/sip_tcp_port=5385/' \
	's/^contact=.*/contact=sip:alice@127.0.0.1:5385;transport=tcp/' "$TCPX"
lrc lb 's/^sip_port=5383/sip_port=0/' 's/^sip_tcp_port=0/sip_tcp_port=5387/' \
	's/^contact=.*/contact=sip:bob@127.0.0.1:5387;transport=tcp/' "$TCPX"
startcap linphonec-tcp 'tcp and host 127.0.0.1 and (port 5385 or port 5387)'
callee_linphone lb 11 &
BP=$!
sleep 2
caller_linphone la "sip:bob@127.0.0.1:5387;transport=tcp" "5 terminate"
wait $BP || :
stopcap
python3 pcap2sip.py tcp "$PCAPS/linphonec-tcp.pcap" dst:5387 "$OUT/tcp/linphonec-zrtp-caller.stream"
python3 pcap2sip.py tcp "$PCAPS/linphonec-tcp.pcap" src:5387 "$OUT/tcp/linphonec-zrtp-callee.stream"

# ---- baresip <-> linphonec ------------------------------------------------------
# baresip alice (rtcp_mux yes) -> linphonec bob (ZRTP optional)
lrc lb
startcap baresip_linphonec-call 'udp and host 127.0.0.1 and (port 5371 or port 5383)'
callee_linphone lb 11 &
BP=$!
sleep 2
timeout -k 5 12 baresip -f bam -t 10 >bam.log 2>&1 &
AP=$!
sleep 1.5
timeout -k 5 10 python3 ctrl.py 4451 "dial sip:bob@127.0.0.1:5383" 4 hangup 0.5 quit 0.5 >/dev/null || :
wait $AP || :
wait $BP || :
stopcap
extract baresip_linphonec-call baresip_linphonec-call invite,100-invite,180-invite,200-invite,ack,bye,200-bye 1,2,4,5

# linphonec alice (ZRTP optional, audio + video capture, rtcp_mux=1) -> baresip bob
lrc la 's/^rtcp_mux=0/rtcp_mux=1/' \
	'/^\[video\]/,/^$/{s/^enabled=0/enabled=1/;s/^capture=0/capture=1/;s/^automatically_initiate=0/automatically_initiate=1/}' \
	'/^\[video\]/a device=StaticImage: Static picture'
startcap linphonec_baresip-call 'udp and host 127.0.0.1 and (port 5381 or port 5373)'
timeout -k 5 14 baresip -f bb -t 12 >bb.log 2>&1 &
BP=$!
sleep 1.5
caller_linphone la sip:bob@127.0.0.1:5373 "4 terminate" -C
timeout -k 5 3 python3 ctrl.py 4452 quit 0.3 >/dev/null || :
wait $BP || :
stopcap
extract linphonec_baresip-call linphonec_baresip-call invite,180-invite,200-invite,ack,bye,200-bye 1,2,3

# ---- expectations -------------------------------------------------------------
python3 sipexpect.py -w "$OUT"/*.sip
for f in "$OUT"/tcp/*.stream; do
	[ -e "${f%.stream}.frames" ] || python3 sipexpect.py -frames "$f" >"${f%.stream}.frames"
done
cd /
rm -rf "$W"
echo "corpus in $OUT, pcaps in $PCAPS: check every new .expect/.frames by eye"
