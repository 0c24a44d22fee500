#!/usr/bin/env python3
"""Judge a loadcall run: calls_check.py N MIN_FRAC CALLER.out CALLEE.out
[CALLER.log CALLEE.log]

Prints "ok: ..." / "FAIL: ..." lines and one "result ..." line; exits 0
when every check passed, 1 otherwise. With the two shim logs it also
checks that every call went secure on both sides ("event: secure
stream=CALLID/0 sas=XXXX") with the same SAS on both sides."""
import re
import sys

n = int(sys.argv[1])
min_frac = float(sys.argv[2])
outs = sys.argv[3:5]
logs = sys.argv[5:7]
fails = 0


def say(ok, msg):
    global fails
    print(("ok: " if ok else "FAIL: ") + msg)
    if not ok:
        fails += 1


def read_out(path):
    calls, summ = {}, None
    try:
        text = open(path, errors="replace").read()
    except OSError as e:
        return calls, summ, str(e)
    for line in text.splitlines():
        if line.startswith("call "):
            d = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)
            calls[d["callid"]] = d
        elif line.startswith("summary "):
            summ = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    return calls, summ, None


sides = []
for name, path in zip(("caller", "callee"), outs):
    calls, summ, err = read_out(path)
    if summ is None:
        say(False, "%s: no summary line in %s (%s)" % (name, path, err or "crashed or killed?"))
        summ = {}
    sides.append((name, calls, summ))

for name, calls, s in sides:
    if not s:
        continue
    setup, ended = int(s["setup"]), int(s["ended"])
    say(setup == n and ended == n,
        "%s: %d of %d calls set up, %d ended with BYE/200%s" %
        (name, setup, n, ended, " (timed out)" if s.get("timed_out") == "1" else ""))
    fr = sorted(float(c["frac"]) for c in calls.values())
    low = [c for c in calls.values() if float(c["frac"]) < min_frac]
    cut = [c for c in calls.values() if c["cut"] != "0"]
    bad = sum(int(c["bad"]) for c in calls.values())
    say(len(calls) == n and not low,
        "%s: %d calls, %d receive < %.0f %% of the packets the peer sent "
        "(min %.4f, median %.4f)%s" %
        (name, len(calls), len(low), min_frac * 100, fr[0] if fr else 0,
         fr[len(fr) // 2] if fr else 0,
         "; e.g. " + " ".join("%s:%s" % (c["callid"], c["frac"]) for c in low[:5]) if low else ""))
    say(not cut, "%s: %d calls cut (no packet for > 1 s before the end)%s" %
        (name, len(cut), "; e.g. " + " ".join(
            "%s:gap=%sms,rcvd=%s" % (c["callid"], c["maxgap_ms"], c["rcvd"]) for c in cut[:5]) if cut else ""))
    say(bad == 0, "%s: %d packets that were not the peer's tone RTP for the call" % (name, bad))
    print("  %s: sent=%s rcvd=%s first packet after setup: median %s ms, max %s ms; "
          "cpu %s s; max RSS %s kB" % (name, s["sent"], s["rcvd"], s["first_ms_median"],
                                       s["first_ms_max"], s["cpu_s"], s["maxrss_kb"]))

if logs:
    pat = re.compile(r"event: secure stream=(\S+)/0 sas=(\S+)")
    sas = []
    for lg in logs:
        m = {}
        try:
            for line in open(lg, errors="replace"):
                x = pat.search(line)
                if x:
                    m.setdefault(x.group(1), set()).add(x.group(2))
        except OSError as e:
            say(False, "cannot read %s: %s" % (lg, e))
        sas.append(m)
    ids = set(sides[0][1]) | set(sides[1][1])
    for (name, _, _), m in zip(sides, sas):
        miss = sorted(i for i in ids if i not in m)
        say(len(ids) == n and not miss,
            "%s: %d of %d calls logged 'event: secure'%s" %
            (name, len(ids) - len(miss), n, "; missing e.g. " + " ".join(miss[:5]) if miss else ""))
    diff = sorted(i for i in ids if i in sas[0] and i in sas[1] and
                  (len(sas[0][i]) != 1 or sas[0][i] != sas[1][i]))
    same = sum(1 for i in ids if i in sas[0] and i in sas[1] and i not in diff)
    say(same == n, "%d of %d calls show one and the same SAS on both sides%s" %
        (same, n, "; differ e.g. " + " ".join(
            "%s:%s/%s" % (i, ",".join(sas[0][i]), ",".join(sas[1][i])) for i in diff[:5]) if diff else ""))
    for (name, _, _), lg in zip(sides, logs):
        try:
            ev = [l.strip() for l in open(lg, errors="replace")
                  if "calls tracked" in l or "forgetting" in l or
                  re.search(r"\b(ERROR)\b", l)]
        except OSError:
            ev = []
        if ev:
            print("  %s log: %d eviction/ERROR lines, first: %s" % (name, len(ev), ev[0]))

print("result fails=%d" % fails)
sys.exit(1 if fails else 0)
