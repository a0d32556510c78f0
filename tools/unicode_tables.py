#!/usr/bin/env python3
"""Generates the Unicode tables of grpo.h's BPE tokenizer from Python's unicodedata.

The tables: letters (general category L*) and numbers (N*) as code point ranges, for the \\p{L}
and \\p{N} of the GPT-2 and Qwen2 pre-tokenizer patterns; canonical combining classes and
canonical decompositions (with a flag for primary composites) for NFC, the normalizer of Qwen2's
tokenizer.json. Hangul syllables are decomposed and composed by arithmetic, not tables.

    /usr/bin/python3 tools/unicode_tables.py --write grpo.h   # regenerate the block in place
    /usr/bin/python3 tools/unicode_tables.py --check grpo.h   # fail if grpo.h's block differs

The block lies between the BEGIN/END GENERATED UNICODE TABLES lines. Before writing, the NFC
tables are checked: an NFC written in Python over these tables must agree with
unicodedata.normalize on every code point and on sequences of combining marks.
"""
import argparse
import random
import sys
import unicodedata

BEGIN = "/* BEGIN GENERATED UNICODE TABLES */"
END = "/* END GENERATED UNICODE TABLES */"
SBase, LBase, VBase, TBase, LCount, VCount, TCount = 0xAC00, 0x1100, 0x1161, 0x11A7, 19, 21, 28
NCount, SCount = VCount * TCount, 19 * 21 * 28


def code_points():
    return (c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def ranges(predicate):
    out, start, previous = [], None, None
    for c in code_points():
        if predicate(c):
            if start is None or c != previous + 1:
                if start is not None:
                    out.append((start, previous))
                start = c
            previous = c
    if start is not None:
        out.append((start, previous))
    return out


def combining_ranges():
    out = []
    for c in code_points():
        k = unicodedata.combining(chr(c))
        if k:
            if out and out[-1][1] == c - 1 and out[-1][2] == k:
                out[-1] = (out[-1][0], c, k)
            else:
                out.append((c, c, k))
    return out


def decompositions():
    out = []
    for c in code_points():
        d = unicodedata.decomposition(chr(c))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        assert 1 <= len(parts) <= 2, (hex(c), d)
        composes = len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(c)
        out.append((c, parts[0], parts[1] if len(parts) == 2 else 0, composes))
    return out


def nfc(text, ccc, decomposition, composition):
    """NFC over the tables, the algorithm grpo.h implements."""
    def decompose(c, out):
        if SBase <= c < SBase + SCount:
            s = c - SBase
            out.append(LBase + s // NCount)
            out.append(VBase + (s % NCount) // TCount)
            if s % TCount:
                out.append(TBase + s % TCount)
        elif c in decomposition:
            for part in decomposition[c]:
                decompose(part, out)
        else:
            out.append(c)
    cps = []
    for ch in text:
        decompose(ord(ch), cps)
    # canonical ordering: a stable sort of each run of non-starters by class
    i = 0
    while i < len(cps):
        if ccc.get(cps[i], 0) == 0:
            i += 1
            continue
        j = i
        while j < len(cps) and ccc.get(cps[j], 0) != 0:
            j += 1
        cps[i:j] = sorted(cps[i:j], key=lambda c: ccc.get(c, 0))
        i = j
    # composition: each character joins the last starter unless a character between them has a
    # combining class >= its own (it is "blocked")
    def compose(first, second):
        if LBase <= first < LBase + LCount and VBase <= second < VBase + VCount:
            return SBase + ((first - LBase) * VCount + (second - VBase)) * TCount
        if SBase <= first < SBase + SCount and (first - SBase) % TCount == 0 and TBase < second < TBase + TCount:
            return first + (second - TBase)
        return composition.get((first, second))
    out, starter, last_class = [], None, None
    for c in cps:
        k = ccc.get(c, 0)
        if starter is not None and (last_class is None or last_class < k):
            composite = compose(out[starter], c)
            if composite is not None:
                out[starter] = composite
                continue
        if k == 0:
            starter, last_class = len(out), None
        else:
            last_class = k
        out.append(c)
    return "".join(map(chr, out))


def check(ccc, decomposition, composition):
    rng = random.Random(1)
    failures = 0
    for c in code_points():
        s = chr(c)
        if nfc(s, ccc, decomposition, composition) != unicodedata.normalize("NFC", s):
            failures += 1
    marks = [c for c in ccc]
    bases = [ord(ch) for ch in "aeiouAEOUnsckzgyw\u0391\u03b1\u0415\u0435\u1100\u1161\u11a8\uac00\u0627\u05d0\u0915\u3046"]
    for _ in range(200000):
        s = "".join(chr(rng.choice(bases if rng.random() < 0.4 else marks)) for _ in range(rng.randint(1, 6)))
        if nfc(s, ccc, decomposition, composition) != unicodedata.normalize("NFC", s):
            failures += 1
    return failures


def rows(items, per_line, format_item):
    lines, line = [], []
    for item in items:
        line.append(format_item(item))
        if len(line) == per_line:
            lines.append("    " + ",".join(line) + ",")
            line = []
    if line:
        lines.append("    " + ",".join(line) + ",")
    return "\n".join(lines)


def generate():
    letters = ranges(lambda c: unicodedata.category(chr(c)).startswith("L"))
    numbers = ranges(lambda c: unicodedata.category(chr(c)).startswith("N"))
    combining = combining_ranges()
    decomposition_rows = decompositions()
    ccc = {c: k for a, b, k in combining for c in range(a, b + 1)}
    decomposition = {c: [a] + ([b] if b else []) for c, a, b, _ in decomposition_rows}
    composition = {(a, b): c for c, a, b, composes in decomposition_rows if composes}
    failures = check(ccc, decomposition, composition)
    if failures:
        sys.exit(f"unicode_tables.py: the NFC tables disagree with unicodedata on {failures} cases")
    pair = lambda r: "{%d,%d}" % r
    return "\n".join([
        BEGIN,
        f"/* Generated by tools/unicode_tables.py from Python's unicodedata, Unicode {unicodedata.unidata_version}. Do not edit. */",
        f"static const uint32_t grpo__unicode_letters[{len(letters)}][2] = {{",
        rows(letters, 8, pair), "};",
        f"static const uint32_t grpo__unicode_numbers[{len(numbers)}][2] = {{",
        rows(numbers, 8, pair), "};",
        "/* canonical combining classes: {first, last, class} */",
        f"static const uint32_t grpo__unicode_combining[{len(combining)}][3] = {{",
        rows(combining, 6, lambda r: "{%d,%d,%d}" % r), "};",
        "/* canonical decompositions, by code point: {code point, first, second or 0}; the code point",
        "   has bit 31 set when the pair composes back to it (a primary composite) */",
        f"static const uint32_t grpo__unicode_decompositions[{len(decomposition_rows)}][3] = {{",
        rows(decomposition_rows, 6, lambda r: "{0x%X,%d,%d}" % (r[0] | (0x80000000 if r[3] else 0), r[1], r[2])), "};",
        END,
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="HEADER")
    group.add_argument("--check", metavar="HEADER")
    args = parser.parse_args()
    path = args.write or args.check
    if args.check and unicodedata.unidata_version != "14.0.0":
        print(f"skipped: checking grpo.h's Unicode tables needs Python's Unicode 14.0.0 (Python 3.11); "
              f"this Python has {unicodedata.unidata_version}")
        print("unicode_tables: 0 passed, 0 failed")
        return 0
    text = open(path, encoding="utf-8").read()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < 0:
        sys.exit(f"unicode_tables.py: {path} has no {BEGIN} ... {END} block")
    block = generate()
    current = text[start:end + len(END)]
    if args.check:
        ok = current == block
        print("unicode_tables: the generated tables match grpo.h" if ok else
              "unicode_tables: grpo.h's tables differ from tools/unicode_tables.py's output; run it with --write")
        print(f"unicode_tables: {int(ok)} passed, {int(not ok)} failed")
        return 0 if ok else 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + block + text[end + len(END):])
    print(f"unicode_tables: wrote {len(block)} bytes into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
