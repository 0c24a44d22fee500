#!/bin/sh
# Re-create the verify-*.pcap fixtures of tests/unit/test_verify.c from
# real clients on loopback (HARNESS.md). Needs root (tcpdump on lo) and
# sip-tester, baresip-core, linphone-cli, tcpdump, sox, editcap.
# Usage: verify-capture.sh OUTDIR [sipp|baresip|linphone ...]
# Every process is bounded with timeout -k and ended by its own PID.
# Ports are kept apart from the SIP corpus captures (5090/16000...).
set -u
OUT=$(cd "${1:?usage: $0 OUTDIR [which...]}" && pwd)
shift
WHICH=${*:-sipp baresip linphone}
T=$(mktemp -d /tmp/zs-verify-cap.XXXXXX)
cd "$T" || exit 1

capture_start() { # $1 file, $2 filter
	timeout -k 2 60 tcpdump -i lo -U -s 0 -w "$1" "$2" >/dev/null 2>&1 &
	TCPDUMP=$!
	sleep 1
}
capture_stop() {
	sleep 1
	kill -INT "$TCPDUMP" 2>/dev/null
	wait "$TCPDUMP" 2>/dev/null
}

# Speech-like audio: a tone with some noise, so u-law bytes are not trivial.
sox -n -r 8000 -c 1 -b 16 tone.wav synth 3 sine 440 synth 3 pinknoise mix vol 0.5 2>/dev/null
sox tone.wav -t raw -e u-law -r 8000 -c 1 tone.ulaw
sox tone.wav -t raw -e a-law -r 8000 -c 1 tone.alaw
# linphonec: a file longer than the call (when its file ends mid-call,
# linphonec 5.1 was seen starting a second, cleartext RTP stream).
sox -n -r 8000 -c 1 -b 16 long.wav synth 10 sine 440 synth 10 pinknoise mix vol 0.5 2>/dev/null

for w in $WHICH; do case $w in
sipp)
	cat > uac.xml <<'X'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="verify UAC">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <nop><action><exec rtp_stream="tone.ulaw,1,0"/></action></nop>
  <pause milliseconds="3000"/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send retrans="500"><![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="200" crlf="true"/>
</scenario>
X
	cat > uas.xml <<'X'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="verify UAS">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

  ]]></send>
  <recv request="ACK" rtd="true" crlf="true"/>
  <nop><action><exec rtp_stream="tone.alaw,-1,8"/></action></nop>
  <recv request="BYE"/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
  <timewait milliseconds="500"/>
</scenario>
X
	capture_start "$OUT/verify-sipp-clear.pcap" 'udp and host 127.0.0.1 and (port 5190 or port 5191 or portrange 17000-17101)'
	timeout -k 2 20 sipp -sf uas.xml -i 127.0.0.1 -p 5190 -bind_local -mi 127.0.0.1 -mp 17100 -cp 8990 -m 1 -nostdin >/dev/null 2>&1 &
	UAS=$!
	sleep 0.5
	timeout -k 2 20 sipp 127.0.0.1:5190 -sf uac.xml -i 127.0.0.1 -p 5191 -bind_local -mi 127.0.0.1 -mp 17000 -cp 8991 -m 1 -nostdin >/dev/null 2>&1
	wait "$UAS"
	capture_stop
	;;
baresip)
	for who in a b; do
		mkdir -p "$who"; : > "$who/contacts"
		if [ $who = a ]; then P=5171; C=4451; R=11000-11009; N=alice; else P=5173; C=4452; R=11010-11019; N=bob; fi
		cat > "$who/config" <<X
net_interface 127.0.0.1
sip_listen 127.0.0.1:$P
audio_source aufile,$T/tone.wav
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
module_tmp account.so
module_app menu.so
snd_path $T/$who
rtp_ports $R
rtcp_mux no
X
		echo "<sip:$N@127.0.0.1:$P>;regint=0;answermode=auto;audio_codecs=PCMU;ptime=20" > "$who/accounts"
	done
	capture_start "$OUT/verify-baresip-clear.pcap" 'udp and host 127.0.0.1 and (port 5171 or port 5173 or portrange 11000-11019)'
	timeout -k 2 12 baresip -f b -t 10 >b.log 2>&1 &
	B=$!
	sleep 1
	timeout -k 2 10 baresip -f a -e "/dial sip:bob@127.0.0.1:5173" -t 7 >a.log 2>&1
	wait "$B"
	capture_stop
	;;
linphone)
	for who in a b; do
		mkdir -p "$who/home/.local/share/linphone"
		if [ $who = a ]; then P=5181; R=7178; N=alice; else P=5183; R=7278; N=bob; fi
		cat > "$who/rc" <<X
[sip]
sip_port=$P
sip_tcp_port=0
sip_tls_port=0
bind_address=127.0.0.1
use_ipv6=0
contact=sip:$N@127.0.0.1:$P
media_encryption=zrtp
media_encryption_mandatory=0
[rtp]
bind_address=127.0.0.1
audio_rtp_port=$R
rtcp_mux=0
[video]
enabled=0
capture=0
display=0
[audio_codec_0]
mime=PCMU
rate=8000
enabled=1
[audio_codec_1]
mime=PCMA
rate=8000
enabled=0
[audio_codec_2]
mime=opus
rate=48000
enabled=0
[audio_codec_3]
mime=speex
rate=8000
enabled=0
X
	done
	capture_start "$OUT/verify-linphone-zrtp.pcap" 'udp and host 127.0.0.1 and (port 5181 or port 5183 or portrange 7178-7179 or portrange 7278-7279)'
	( sleep 1; echo "soundcard use files"; echo "play $T/long.wav"; sleep 9; echo quit ) | \
		HOME=$T/b/home timeout -k 2 13 linphonec -c b/rc -a >b.log 2>&1 &
	B=$!
	sleep 2
	( sleep 1; echo "soundcard use files"; echo "play $T/long.wav"; echo "call sip:bob@127.0.0.1:5183"; sleep 4; echo terminate; sleep 1; echo quit ) | \
		HOME=$T/a/home timeout -k 2 11 linphonec -c a/rc >a.log 2>&1
	wait "$B"
	capture_stop
	grep -h "encrypted" a.log b.log
	;;
esac; done
ls -l "$OUT"/verify-*.pcap
echo "logs in $T"
