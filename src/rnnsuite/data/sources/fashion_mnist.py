"""Fashion-MNIST (Xiao et al. 2017): 60,000 train + 10,000 test grayscale 28x28 images of 10 clothing classes.

From the Debian package `dataset-fashion-mnist` (MIT licence), fetched without root: `apt-get download` and
`dpkg-deb -x`. Only the four IDX files are kept.
"""
import gzip
import shutil

import numpy as np

from ..fetch import DataError, apt_download, atomic_path, is_fresh, verify
from ..registry import Source

PACKAGE = "dataset-fashion-mnist"
PKG_DIR = "usr/share/datasets/fashion-mnist"
FILES = {  # sha256 of the files in dataset-fashion-mnist 0.0~git20200523.55506a9-1 (Debian bookworm)
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]
COUNTS = {"train": 60000, "t10k": 10000}


def fetch(raw_dir, work):
    root = apt_download(PACKAGE, work)
    for name, sha in FILES.items():
        src = root / PKG_DIR / name
        if not src.is_file():
            raise DataError(f"{PACKAGE} has no {PKG_DIR}/{name}: the package layout changed")
        with atomic_path(raw_dir / name) as tmp:
            shutil.copyfile(src, tmp)
            verify(tmp, sha)


def _read_idx(path, ndim):
    """IDX format (LeCun): big-endian magic 0x0000 08 ndim, ndim int32 sizes, then uint8 data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    if magic != 0x0800 + ndim:
        raise DataError(f"{path.name} is not an IDX file of {ndim} dims (magic {magic:#x})")
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise DataError(f"{path.name} is truncated: {arr.size} values for shape {shape}")
    return arr.reshape(shape)


def load(raw_dir, split="train"):
    """(images uint8 [N, 28, 28], labels int64 [N]) for split 'train' (60k) or 't10k' (10k)."""
    if split not in COUNTS:
        raise ValueError(f"unknown Fashion-MNIST split {split!r}; use train or t10k")
    images = _read_idx(raw_dir / f"{split}-images-idx3-ubyte.gz", 3)
    labels = _read_idx(raw_dir / f"{split}-labels-idx1-ubyte.gz", 1).astype(np.int64)
    if len(images) != len(labels):
        raise DataError(f"Fashion-MNIST {split}: {len(images)} images but {len(labels)} labels")
    return images, labels


SOURCES = [Source(
    name="fashion_mnist",
    description="Fashion-MNIST: 60,000 + 10,000 grayscale 28x28 clothing images, 10 classes (MIT)",
    origin=f"Debian package {PACKAGE}, files /{PKG_DIR}/{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz",
    fetch_fn=fetch,
    is_present=lambda d: all(is_fresh(d / n, sha) for n, sha in FILES.items()),
    tags=["captioning", "images"],
)]
