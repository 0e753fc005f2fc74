#!/bin/sh
# make-subset.sh regenerates wqy-microhei-gb2312.ttf, the CJK font the
# zhengxin binary embeds (package font), from Debian's fonts-wqy-microhei.
#
# Needs: apt-get install -y --no-install-recommends fonts-wqy-microhei python3-fonttools
# Uses Debian's /usr/bin/python3 because the python3-fonttools package is
# installed for it, not for any other python3 on PATH.
#
# Character set: ASCII, Latin-1, general and CJK punctuation, full-width
# forms, all 6763 GB2312 hanzi, 〇, and every character of the shipped
# license types and seal texts (listed in extra-chars.txt). Outlines stay
# TrueType glyf (fpdf and gopdf cannot embed CFF); hinting is dropped to save
# bytes — the font is rendered at print resolution where hints do not matter.
set -eu
cd "$(dirname "$0")"
# fontTools stamps head.modified with the current time unless this is set;
# a fixed value makes the output byte-for-byte reproducible.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1262304000}
PY=/usr/bin/python3
SRC=${WQY_TTC:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Face 0 of the collection is "WenQuanYi Micro Hei" (face 1 is the Mono variant).
$PY -c "import sys; from fontTools.ttLib import TTCollection; TTCollection(sys.argv[1]).fonts[0].save(sys.argv[2])" "$SRC" "$TMP/face0.ttf"

# The text file of characters to keep.
$PY - "$TMP/chars.txt" extra-chars.txt <<'PYEOF'
import sys
out, extra = sys.argv[1], sys.argv[2]
chars = set()
for lo, hi in [(0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF), (0x2460, 0x24FF), (0x25A0, 0x25FF), (0x2600, 0x2606)]:
    chars.update(chr(c) for c in range(lo, hi + 1))
# Every two-byte GB2312 code: rows 0xA1-0xF7, cells 0xA1-0xFE (symbols, kana,
# Greek, Cyrillic, pinyin, box drawing and the 6763 hanzi of levels 1 and 2).
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.add("\u3007")  # 〇, used in Chinese dates (二〇二六年)
with open(extra, encoding="utf-8") as f:
    chars.update(c for c in f.read() if not c.isspace())
with open(out, "w", encoding="utf-8") as f:
    f.write("".join(sorted(chars)))
PYEOF

$PY -m fontTools.subset "$TMP/face0.ttf" \
    --text-file="$TMP/chars.txt" \
    --output-file=wqy-microhei-gb2312.ttf.tmp \
    --no-hinting --desubroutinize \
    --layout-features='*' \
    --name-IDs='*' --name-languages='*' --name-legacy \
    --notdef-outline --recommended-glyphs \
    --drop-tables+=DSIG
mv wqy-microhei-gb2312.ttf.tmp wqy-microhei-gb2312.ttf
ls -l wqy-microhei-gb2312.ttf
