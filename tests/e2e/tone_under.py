"""The level of a steady tone under a prompt, against the same tone after it.

usage: tone_under.py REC.wav HZ START_MS LEN_MS
  -> prints "<during> <after> <ratio>"

REC.wav: mono (or the first channel) 16-bit PCM. The amplitude of HZ is
measured with the Goertzel filter over 20 ms blocks (an exact number of
periods is not needed: a block this long is narrow enough to tell 660 Hz
from speech only on average, so the median over the blocks is taken),
during [START_MS, START_MS + LEN_MS) and during the second after the
prompt ends (+200 ms). Pure python: wave + array + math."""
import array, math, sys, wave

w = wave.open(sys.argv[1], 'rb')
ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
if width != 2:
    sys.exit('%s: want 16-bit samples' % sys.argv[1])
a = array.array('h', w.readframes(n))
if sys.byteorder == 'big':
    a.byteswap()
a = a[::ch]
hz, start, length = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
block = rate // 50
k = 2.0 * math.cos(2.0 * math.pi * hz / rate)


def amp(lo_ms, hi_ms):
    lo, hi = lo_ms * rate // 1000, min(len(a), hi_ms * rate // 1000)
    vals = []
    for i in range(lo, hi - block + 1, block):
        s1 = s2 = 0.0
        for x in a[i:i + block]:
            s1, s2 = x + k * s1 - s2, s1
        p = s1 * s1 + s2 * s2 - k * s1 * s2
        vals.append(2.0 * math.sqrt(max(p, 0.0)) / block)
    vals.sort()
    return vals[len(vals) // 2] if vals else 0.0


during = amp(start, start + length)
after = amp(start + length + 200, start + length + 1200)
print('%.0f %.0f %.3f' % (during, after, during / after if after else 0.0))
