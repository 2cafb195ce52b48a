"""English-Spanish Bible verse pairs: King James (engKJV2006eb) and Reina-Valera 1909 (spaRV1909eb).

From the Debian packages `sword-text-kjv` and `sword-text-sparv` (public domain), fetched without root
(`apt-get download` + `dpkg-deb -x`) and read with `pysword` (clean=True strips the OSIS markup). Both
modules use the KJV versification, so verse N of one translates verse N of the other. Extraction takes
about a minute, so the pairs are cached once as `pairs.tsv` (book, chapter, verse, en, es), written
atomically; the SWORD files themselves are not kept.
"""
import csv
import re
import shutil

from ..fetch import DataError, apt_download, atomic_path
from ..registry import Source

PACKAGES = {"en": ("sword-text-kjv", "engKJV2006eb"), "es": ("sword-text-sparv", "spaRV1909eb")}
FILE = "pairs.tsv"
EXPECTED_PAIRS = 31084  # non-empty in both, sword-text-kjv 14.3-1 + sword-text-sparv 2.60-1 (bookworm)
COLUMNS = ["book", "chapter", "verse", "en", "es"]


def _bible(sword_root, module):
    from pysword.modules import SwordModules
    mods = SwordModules(str(sword_root))
    if module not in mods.parse_modules():
        raise DataError(f"SWORD module {module} not found under {sword_root}: the Debian package layout changed")
    return mods.get_bible_from_module(module)


def _verses(bible, space_after_notes=False):
    """{(book, chapter, verse): cleaned text} by walking the versification, so that every text keeps its
    reference (pysword's own iterator silently skips missing verses, which would misalign two Bibles)."""
    structure = bible.get_structure()
    out = {}
    for testament, books in structure.get_books().items():
        for book in books:
            offset = structure._book_offset(book.name)  # noqa: SLF001 - the only way to index a verse directly
            for ch in range(1, book.num_chapters + 1):
                for v, idx in enumerate(book.get_indicies(chapters=ch, offset=offset), 1):
                    text = bible._text_for_index(testament, idx)  # noqa: SLF001
                    if text and space_after_notes:  # a removed footnote must not glue its neighbours
                        text = re.sub(r"\s+([,;:.!?])", r"\1", text.replace("</note>", "</note> "))
                    if text and "<" in text and bible._cleaner:  # noqa: SLF001
                        text = bible._cleaner.clean(text)  # noqa: SLF001
                    text = " ".join((text or "").split())
                    if text:
                        out[(book.name, ch, v)] = text
    return out


def fetch(raw_dir, work):
    texts = {}
    for lang, (package, module) in PACKAGES.items():
        pkg_work = work / package
        pkg_work.mkdir()
        root = apt_download(package, pkg_work)
        print(f"reading {module} with pysword …", flush=True)
        texts[lang] = _verses(_bible(root / "usr/share/sword", module))
        shutil.rmtree(pkg_work, ignore_errors=True)
    keys = [k for k in texts["en"] if k in texts["es"]]  # KJV order
    if not keys:
        raise DataError("the two Bibles share no verse references")
    with atomic_path(raw_dir / FILE) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            w.writerow(COLUMNS)
            for book, ch, v in keys:
                w.writerow([book, ch, v, texts["en"][(book, ch, v)], texts["es"][(book, ch, v)]])
    print(f"cached {len(keys):,} verse pairs in {raw_dir / FILE}", flush=True)


def load(raw_dir):
    """DataFrame(book, chapter, verse, en, es): one row per verse present in both Bibles."""
    import pandas as pd
    path = raw_dir / FILE
    if not path.is_file():
        raise DataError(f"{path} is missing; run `rnn-data fetch bible`")
    df = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_MINIMAL, keep_default_na=False,
                     dtype={"book": str, "en": str, "es": str})
    if list(df.columns) != COLUMNS or not len(df):
        raise DataError(f"{path} is not a verse-pairs TSV (columns {list(df.columns)}); "
                        "run `rnn-data fetch bible --force`")
    return df


WEB_FILE = "web.tsv"


def fetch_web(raw_dir, work):
    """The World English Bible (Debian sword-text-web, module engWEB2015eb, public domain): modern English with
    the KJV's verse numbering, cached as web.tsv (book, chapter, verse, en). The translation task uses it only
    to reword its test sources (an out-of-domain check), never for training."""
    root = apt_download("sword-text-web", work)
    print("reading engWEB2015eb with pysword …", flush=True)
    verses = _verses(_bible(root / "usr/share/sword", "engWEB2015eb"), space_after_notes=True)
    with atomic_path(raw_dir / WEB_FILE) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            w.writerow(["book", "chapter", "verse", "en"])
            for (book, ch, v), text in verses.items():
                w.writerow([book, ch, v, text])
    print(f"cached {len(verses):,} verses in {raw_dir / WEB_FILE}", flush=True)


def load_web(raw_dir):
    """{(book, chapter, verse): World English Bible text}."""
    import pandas as pd
    path = raw_dir / WEB_FILE
    if not path.is_file():
        raise DataError(f"{path} is missing; run `rnn-data fetch bible_web`")
    df = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_MINIMAL, keep_default_na=False, dtype={"book": str, "en": str})
    return {(b, int(c), int(v)): t for b, c, v, t in df[["book", "chapter", "verse", "en"]].itertuples(index=False)}


SOURCES = [Source(
    name="bible",
    description=f"{EXPECTED_PAIRS:,} English-Spanish verse pairs: King James / Reina-Valera 1909 (public domain)",
    origin="Debian packages sword-text-kjv + sword-text-sparv, read with pysword",
    fetch_fn=fetch,
    is_present=lambda d: (d / FILE).is_file(),
    tags=["translation"],
), Source(
    name="bible_web",
    description="the World English Bible (modern English, KJV verse numbering): reworded translation test sources",
    origin="Debian package sword-text-web, read with pysword",
    fetch_fn=fetch_web,
    is_present=lambda d: (d / WEB_FILE).is_file(),
    tags=["translation"],
)]
