"""DTMF tones in WAV files, for tests/e2e/keypad.sh. Pure python.

  dtmf.py gen OUT.wav HZ SECONDS KEYS AT   a tone of HZ (8 kHz, 16 bit) for
      SECONDS, with the DTMF tones of KEYS from AT seconds on (each 150 ms,
      150 ms apart; the frequency pairs of ITU-T Q.23, RFC 4733 §3.2)
  dtmf.py keys FILE.wav                    the keys heard in FILE: each
      20 ms frame's energy at the eight DTMF frequencies (Goertzel); a key
      where one row and one column stand well above the others and above
      the rest of the signal for at least 40 ms
"""
import array, math, sys, wave

ROWS = (697, 770, 852, 941)
COLS = (1209, 1336, 1477, 1633)
KEYS = ("123A", "456B", "789C", "*0#D")


def pair(k):
    for r, row in enumerate(KEYS):
        if k in row:
            return ROWS[r], COLS[row.index(k)]
    raise SystemExit("no DTMF key %r" % k)


def gen(out, hz, secs, keys, at):
    rate = 8000
    n = int(secs * rate)
    a = array.array('h', [0] * n)
    for i in range(n):
        a[i] = int(0.3 * 32767 * math.sin(2 * math.pi * hz * i / rate))
    t = at
    for k in keys:
        lo, hi = pair(k)
        s, e = int(t * rate), int((t + 0.15) * rate)
        for i in range(s, min(e, n)):
            x = i - s
            a[i] = int(9000 * math.sin(2 * math.pi * lo * x / rate) +
                       9000 * math.sin(2 * math.pi * hi * x / rate))
        for i in range(e, min(e + int(0.15 * rate), n)):
            a[i] = 0
        t += 0.3
    if sys.byteorder == 'big':
        a.byteswap()
    w = wave.open(out, 'wb')
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(a.tobytes())
    w.close()


def goertzel(f, hz, rate):
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in f:
        s1, s2 = x + k * s1 - s2, s1
    return s1 * s1 + s2 * s2 - k * s1 * s2


def keys(path):
    w = wave.open(path, 'rb')
    ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
    if width != 2:
        raise SystemExit('%s: %d-byte samples, want 16-bit' % (path, width))
    a = array.array('h', w.readframes(n))
    if sys.byteorder == 'big':
        a.byteswap()
    a = a[::ch]
    frame = rate // 50
    found, last, run = [], None, 0
    for i in range(0, len(a) - frame + 1, frame):
        f = a[i:i + frame]
        energy = sum(x * x for x in f) + 1.0
        pr = [goertzel(f, h, rate) for h in ROWS]
        pc = [goertzel(f, h, rate) for h in COLS]
        r = max(range(4), key=lambda j: pr[j])
        c = max(range(4), key=lambda j: pc[j])
        second_r = sorted(pr)[-2]
        second_c = sorted(pc)[-2]
        # both tones dominate their group and hold at least half the
        # frame's energy (a sine of energy E gives Goertzel power E*N/2)
        k = None
        if (pr[r] > 10 * second_r and pc[c] > 10 * second_c and
                (pr[r] + pc[c]) * 2 / frame > 0.5 * energy):
            k = KEYS[r][c]
        if k is not None and k == last:
            run += 1
            if run == 2:
                found.append(k)
        else:
            run = 1 if k is not None else 0
        last = k
    print(''.join(found))


if __name__ == '__main__':
    if len(sys.argv) == 7 and sys.argv[1] == 'gen':
        gen(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5],
            float(sys.argv[6]))
    elif len(sys.argv) == 3 and sys.argv[1] == 'keys':
        keys(sys.argv[2])
    else:
        raise SystemExit(__doc__)
