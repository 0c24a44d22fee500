"""Dominant frequency of the audible part of a WAV file (a pure tone).

usage: freq.py FILE.wav  ->  prints "<hz> <seconds of tone>"

The decoded audio a client wrote starts and may end with silence (before
the call is secure, after it ends): 20 ms frames quieter than a tenth of
the loudest are skipped; the frequency is half the zero-crossing rate of
the rest. For one sine tone this is within a fraction of a percent.
Pure python (no numpy): wave + array."""
import array, sys, wave

w = wave.open(sys.argv[1], 'rb')
ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
if width != 2:
    sys.exit('%s: %d-byte samples, want 16-bit' % (sys.argv[1], width))
a = array.array('h', w.readframes(n))
if sys.byteorder == 'big':
    a.byteswap()
a = a[::ch]
frame = max(1, rate // 50)
frames = [a[i:i + frame] for i in range(0, len(a) - frame + 1, frame)]
def rms(f):
    return (sum(x * x for x in f) / len(f)) ** 0.5
levels = [rms(f) for f in frames]
top = max(levels) if levels else 0
if top < 100:
    print('0 0')
    sys.exit(0)
cross, samples, prev = 0, 0, None
for f, lv in zip(frames, levels):
    if lv < top / 10:
        prev = None
        continue
    samples += len(f)
    for x in f:
        if prev is not None and (prev < 0) != (x < 0):
            cross += 1
        prev = x
secs = samples / float(rate)
print('%.1f %.2f' % (cross / 2.0 / secs if secs else 0, secs))
