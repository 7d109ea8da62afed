#!/usr/bin/python3
"""Print the code points kept in the bundled Noto Sans CJK JP subset, one
"U+XXXX" per line, sorted (input for `fontTools.subset --unicodes-file`).

The ideograph and Hangul lists are computed from Python's own codecs, so they
are the same on every machine:

* JIS X 0208 level-1 kanji: every 2-byte EUC-JP code in rows 16-47
  (lead bytes 0xB0-0xCF, trail bytes 0xA1-0xFE) that decodes -> 2,965.
* GB 2312 level-1 hanzi: every 2-byte GB 2312 (EUC-CN) code in rows 16-55
  (lead bytes 0xB0-0xD7, trail bytes 0xA1-0xFE) that decodes -> 3,755.
* KS X 1001 Hangul syllables: every 2-byte EUC-KR code in rows 16-40
  (lead bytes 0xB0-0xC8, trail bytes 0xA1-0xFE) -> 2,350.

Plus the blocks: CJK symbols & punctuation, Hiragana, Katakana, Katakana
phonetic extensions, half-/full-width forms, and the two spaces.

`--stats` prints the counts to stderr as well.
"""
import sys

EXPECTED = {"jis_level1": 2965, "gb2312_level1": 3755, "ksx1001_hangul": 2350}

BLOCKS = [
    (0x0020, 0x0020),  # SPACE (so a CJK run does not fall back just for spaces)
    (0x00A0, 0x00A0),  # NO-BREAK SPACE
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0xFF00, 0xFFEF),  # Halfwidth and Fullwidth Forms
]


def decode_rows(codec, leads):
    out = []
    for lead in leads:
        for trail in range(0xA1, 0xFF):
            try:
                s = bytes([lead, trail]).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(s) == 1:
                out.append(ord(s))
    return out


def main():
    sets = {
        "jis_level1": decode_rows("euc_jp", range(0xB0, 0xCF + 1)),
        "gb2312_level1": decode_rows("gb2312", range(0xB0, 0xD7 + 1)),
        "ksx1001_hangul": decode_rows("euc_kr", range(0xB0, 0xC8 + 1)),
    }
    for name, cps in sets.items():
        if len(cps) != EXPECTED[name]:
            sys.exit(f"cjk_codepoints: {name}: got {len(cps)} code points, expected {EXPECTED[name]}")
    if not all(0xAC00 <= c <= 0xD7A3 for c in sets["ksx1001_hangul"]):
        sys.exit("cjk_codepoints: KS X 1001 rows 16-40 decoded to something other than Hangul syllables")
    keep = set()
    for cps in sets.values():
        keep.update(cps)
    for lo, hi in BLOCKS:
        keep.update(range(lo, hi + 1))
    if "--stats" in sys.argv[1:]:
        han = set(sets["jis_level1"]) | set(sets["gb2312_level1"])
        print(
            f"cjk_codepoints: JIS L1 {len(sets['jis_level1'])}, GB2312 L1 {len(sets['gb2312_level1'])}, "
            f"union of ideographs {len(han)}, KS X 1001 Hangul {len(sets['ksx1001_hangul'])}, "
            f"total code points {len(keep)}",
            file=sys.stderr,
        )
    sys.stdout.write("".join(f"U+{c:04X}\n" for c in sorted(keep)))


if __name__ == "__main__":
    main()
