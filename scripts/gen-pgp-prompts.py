#!/usr/bin/env python3
# Print the word_* lines of data/prompts.txt from the PGP word lists in
# zrtp/sas.c (run once when the lists change; its output is committed):
#   python3 scripts/gen-pgp-prompts.py zrtp/sas.c >> data/prompts.txt
import re
import sys

src = open(sys.argv[1] if len(sys.argv) > 1 else "zrtp/sas.c").read()
for name in ("even", "odd"):
    m = re.search(r"pgp_%s\[256\] = \{(.*?)\};" % name, src, re.S)
    words = re.findall(r'"([A-Za-z]+)"', m.group(1))
    assert len(words) == 256, name
    for w in words:
        print("word_%s\t%s" % (w.lower(), w))
