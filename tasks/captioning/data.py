"""Captioning data: scenes of real Fashion-MNIST items with generated English captions, or any image set in
the "Karpathy split" JSON format (Flickr8k/30k, COCO), or a generated fixture of either.

A scene is a 64x64 canvas split into a 2x2 grid; 1-4 items sit in distinct cells (jittered by up to 4 px).
Each scene gets several references in varied English that name the items, their counts and where they are.
Every reference names every item exactly once (or counts them), so `caption_content` can read back the
multiset of items from any caption: that is what the exact content score compares.
"""
import hashlib
import json
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from rnnsuite.data import DataError, TextTokenizer, data_dir, get_source, pad_sequences
from rnnsuite.data.fetch import atomic_path
from rnnsuite.data.module import TaskDataModule

from .captions import CELLS, NOUNS, scene_captions
from .metrics import caption_scores

CANVAS, CELL, JITTER = 64, 32, 4


# ------------------------------------------------------------------------------------------------ scenes
def make_scenes(images, labels, n, seed, max_items=4, dup_prob=0.3, n_refs=5):
    """n scenes from an item pool. Returns canvases uint8 [n, 1, 64, 64], captions [[str]], and contents:
    for each scene its items [(row, col, class, pool index, y, x)] in reading order."""
    rng = random.Random(seed)
    by_class = [np.flatnonzero(labels == c) for c in range(len(NOUNS))]
    canvases = np.zeros((n, 1, CANVAS, CANVAS), dtype=np.uint8)
    captions, contents = [], []
    for i in range(n):
        k = rng.randint(1, max_items)
        cells = sorted(rng.sample(CELLS, k))
        classes = []
        for _ in range(k):  # repeats make counts ("two coats") common enough to learn
            classes.append(rng.choice(classes) if classes and rng.random() < dup_prob else rng.randrange(10))
        placed = []
        for (r, c), cls in zip(cells, classes):
            idx = int(by_class[cls][rng.randrange(len(by_class[cls]))])
            y, x = r * CELL + rng.randint(0, JITTER), c * CELL + rng.randint(0, JITTER)
            canvases[i, 0, y:y + 28, x:x + 28] = images[idx]  # cells are 32 px apart: items never overlap
            placed.append((r, c, cls, idx, y, x))
        captions.append(scene_captions(list(zip(cells, classes)), rng, n_refs))
        contents.append(placed)
    return canvases, captions, contents


def fixture_items(n_per_class=30, seed=0):
    """Fashion-MNIST-shaped stand-ins (28x28 uint8, 10 classes) drawn by code, so tests need no registry:
    each class is a distinct bright shape, with noise and a little size variation."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    images, labels = [], []
    for c in range(10):
        for _ in range(n_per_class):
            s = rng.uniform(0.8, 1.1)
            cy, cx = 14 + rng.integers(-1, 2), 14 + rng.integers(-1, 2)
            dy, dx = (yy - cy) / s, (xx - cx) / s
            shapes = [np.abs(dx) + np.abs(dy) < 9, (np.abs(dx) < 10) & (np.abs(dy) < 4),
                      (np.abs(dx) < 4) & (np.abs(dy) < 11), dx ** 2 + dy ** 2 < 80,
                      (dx ** 2 + dy ** 2 < 100) & (dx ** 2 + dy ** 2 > 40), (np.abs(dx) < 10) & (dy > 0) & (dy < 8),
                      (np.abs(dx - dy) < 3) & (np.abs(dx) < 10), (np.abs(dx + dy) < 3) & (np.abs(dx) < 10),
                      (np.abs(dx) < 9) & (np.abs(dy) < 9) & ~((np.abs(dx) < 5) & (np.abs(dy) < 5)),
                      ((np.abs(dx) < 3) | (np.abs(dy) < 3)) & (np.abs(dx) < 10) & (np.abs(dy) < 10)]
            img = shapes[c] * rng.uniform(150, 255) + rng.normal(0, 12, (28, 28))
            images.append(np.clip(img, 0, 255).astype(np.uint8))
            labels.append(c)
    return np.stack(images), np.array(labels)


def _scene_cache(name, key):
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return data_dir() / "processed" / name / f"scenes_{digest}.npz"


def load_scenes(source, sizes, seed, max_items=4, n_refs=5):
    """{split: (canvases, captions, contents)}: train and val scenes from disjoint parts of Fashion-MNIST's
    train images, test scenes from its t10k images only. Seeded; cached in data/processed."""
    key = {"source": source, "sizes": sizes, "seed": seed, "max_items": max_items, "n_refs": n_refs, "v": 2}
    cache = _scene_cache("fashion_scenes" if source == "fashion_mnist" else "fashion_scenes_fixture", key)
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        return {s: (z[s], meta[s]["captions"], [[tuple(i) for i in c] for c in meta[s]["contents"]])
                for s in sizes}
    if source == "fashion_mnist":
        from rnnsuite.data.sources.fashion_mnist import load
        raw = get_source("fashion_mnist").require()
        tr_x, tr_y = load(raw, "train")
        te_x, te_y = load(raw, "t10k")
        cut = len(tr_x) - 5000  # the last 5,000 train images are the validation pool
        pools = {"train": (tr_x[:cut], tr_y[:cut]), "val": (tr_x[cut:], tr_y[cut:]), "test": (te_x, te_y)}
    elif source == "fixture":
        pools = {s: fixture_items(30, seed=i) for i, s in enumerate(("train", "val", "test"))}
    else:
        raise DataError(f"unknown scene source {source!r}; use fashion_mnist or fixture")
    out = {s: make_scenes(*pools[s], n=sizes[s], seed=seed * 1000 + i, max_items=max_items, n_refs=n_refs)
           for i, s in enumerate(sizes)}
    meta = {s: {"captions": out[s][1], "contents": out[s][2]} for s in out}
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, meta=json.dumps(meta), **{s: out[s][0] for s in out})
    return out


# ------------------------------------------------------------------------------- Karpathy-split JSON
def read_image(path, channels, size):
    """An image file as uint8 [channels, size, size], and a note when it had to be converted or resized.
    Raises DataError for a missing, empty, corrupt or non-image file."""
    import warnings

    from PIL import Image, UnidentifiedImageError
    path = Path(path)
    if not path.is_file():
        raise DataError(f"image not found: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is an empty file (0 bytes), not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # raised while opening
            im = Image.open(path)
        with im:
            im.load()
            mode, (w, h) = im.mode, im.size
            if w == 0 or h == 0:
                raise DataError(f"{path} is a zero-size image ({w}x{h})")
            target = "L" if channels == 1 else "RGB"
            im = im.convert(target)
            if (w, h) != (size, size):
                im = im.resize((size, size), Image.BILINEAR)
            arr = np.array(im, dtype=np.uint8)  # a writable copy (torch.from_numpy warns on read-only)
    except UnidentifiedImageError:
        # A known image signature that PIL cannot open is a damaged file, not a wrong kind of file.
        head = path.read_bytes()[:8]
        if head.startswith((b"\x89PNG", b"\xff\xd8", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")):
            raise DataError(f"{path} is corrupt or truncated: PIL cannot identify it") from None
        raise DataError(f"{path} is not an image file PIL can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # its header claims more pixels than decoding could hold in memory
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "its size"
        raise DataError(f"{path} is too large to decode safely: {size}, over the limit of "
                        f"{Image.MAX_IMAGE_PIXELS:,}; resize it first") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{path} is corrupt or truncated: {str(e).splitlines()[0][:120]}") from None
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    notes = []
    if mode != target:
        notes.append(f"converted {mode} to {target}")
    if (w, h) != (size, size):
        notes.append(f"resized {w}x{h} to {size}x{size}")
    return arr, "; ".join(notes)


def load_karpathy(json_path, image_root, channels=3, size=64):
    """{split: (images uint8 [N, C, S, S], captions [[str]], None)} from a Karpathy-split JSON
    ({"images": [{"filename", "filepath"?, "split", "sentences": [{"raw" | "tokens"}]}]}); 'restval' is
    train. Images are resized once and cached in data/processed/karpathy."""
    json_path, image_root = Path(json_path or ""), Path(image_root or "")
    if not json_path.is_file():
        raise DataError(f"Karpathy-split JSON not found: {json_path} (set data.karpathy_json=PATH)")
    if not image_root.is_dir():
        raise DataError(f"image folder not found: {image_root} (set data.image_root=PATH)")
    try:
        entries = json.loads(json_path.read_text(encoding="utf-8"))["images"]
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(f"{json_path} is not a Karpathy-split JSON (needs an 'images' list): {e}") from None
    stat = json_path.stat()
    key = {"json": str(json_path.resolve()), "mtime": stat.st_mtime, "size": stat.st_size, "root":
           str(image_root.resolve()), "channels": channels, "px": size}
    cache = _scene_cache("karpathy", key)
    groups = {"train": [], "val": [], "test": []}
    for e in entries:
        split = {"restval": "train"}.get(e.get("split"), e.get("split"))
        if split not in groups:
            continue
        caps = [(s.get("raw") or " ".join(s.get("tokens", []))).strip().lower() for s in e.get("sentences", [])]
        caps = [re.sub(r"\s+", " ", c).rstrip(" .") for c in caps if c]
        if caps:
            groups[split].append((Path(e.get("filepath", "")) / e["filename"], caps))
    for split, rows in groups.items():
        if not rows:
            raise DataError(f"{json_path} has no {split!r} images with captions")
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        return {s: (z[s], [c for _, c in rows], None) for s, rows in groups.items()}
    arrays = {s: np.stack([read_image(image_root / p, channels, size)[0] for p, _ in rows])
              for s, rows in groups.items()}
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return {s: (arrays[s], [c for _, c in rows], None) for s, rows in groups.items()}


def write_karpathy_fixture(root, n=60, size=48, seed=0):
    """A tiny image set in exactly the Karpathy-split layout: root/images/*.png + root/dataset.json.
    Each image is one coloured shape; its five captions name the colour and the shape."""
    from PIL import Image, ImageDraw
    rng = random.Random(seed)
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    colours = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 70, 220)}
    entries, sentid = [], 0
    for i in range(n):
        colour, shape = rng.choice(list(colours)), rng.choice(["circle", "square", "triangle"])
        im = Image.new("RGB", (size, size), (245, 245, 240))
        d, (a, b) = ImageDraw.Draw(im), (rng.randint(4, 12), rng.randint(size - 12, size - 4))
        if shape == "circle":
            d.ellipse([a, a, b, b], fill=colours[colour])
        elif shape == "square":
            d.rectangle([a, a, b, b], fill=colours[colour])
        else:
            d.polygon([(size // 2, a), (a, b), (b, b)], fill=colours[colour])
        name = f"img_{i:04d}.png"
        im.save(root / "images" / name)
        raws = [f"A {colour} {shape}.", f"A {colour} {shape} on a white background.", f"One {colour} {shape}",
                f"The picture shows a {colour} {shape}.", f"a plain {colour} {shape}"]
        sents = [{"tokens": r.lower().rstrip(".").split(), "raw": r, "imgid": i, "sentid": sentid + j}
                 for j, r in enumerate(raws)]
        split = "train" if i < 0.7 * n else ("val" if i < 0.85 * n else "test")
        entries.append({"filepath": "images", "filename": name, "imgid": i, "split": split,
                        "sentids": [s["sentid"] for s in sents], "sentences": sents})
        sentid += len(sents)
    (root / "dataset.json").write_text(json.dumps({"images": entries, "dataset": "fixture"}))
    return root / "dataset.json", root


# ------------------------------------------------------------------------------------------ DataModule
class CaptionDataset(torch.utils.data.Dataset):
    def __init__(self, images, captions, ids, contents=None):
        self.images, self.captions, self.ids, self.contents = images, captions, ids, contents

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        content = None
        if self.contents is not None:
            content = tuple(sorted(Counter(item[2] for item in self.contents[i]).items()))
        return {"image": torch.from_numpy(np.asarray(self.images[i])), "ids": self.ids[i],
                "refs": self.captions[i], "content": content, "index": i}


class CaptionDataModule(TaskDataModule):
    task = "captioning"
    unit = "images"
    sources = {"fashion_mnist": "read_scenes", "fixture": "read_scenes", "karpathy": "read_karpathy"}

    def __init__(self, source="fashion_mnist", batch_size=64, n_train=10000, n_val=1000, n_test=1000, seed=0,
                 max_items=4, n_refs=5, karpathy_json=None, image_root=None, channels=3, image_size=64,
                 min_frequency=1, max_len=40, num_workers=0):
        super().__init__(source, batch_size, num_workers, seed)
        self.max_items, self.n_refs = max_items, n_refs
        self.sizes = {"train": n_train, "val": n_val, "test": n_test}
        self.karpathy_json, self.image_root = karpathy_json, image_root
        self.channels, self.image_size = channels, image_size
        self.min_frequency, self.max_len = min_frequency, max_len

    # ------------------------------------------------------------------ reading: {split: (images, captions, contents)}
    def read_scenes(self):
        return load_scenes(self.source, self.sizes, self.seed, self.max_items, self.n_refs)

    def read_karpathy(self):
        return load_karpathy(self.karpathy_json, self.image_root, self.channels, self.image_size)

    def build(self, splits):
        self.splits = splits
        if self._state is None:
            train_caps = [c for caps in self.splits["train"][1] for c in caps]
            tk = TextTokenizer.train(train_caps, "word", 50000, self.min_frequency, lowercase=True)
            images = self.splits["train"][0]
            self._state = {"tokenizer": tk.to_str(), "kind": "word", "max_len": self.max_len,
                           "channels": int(images.shape[1]), "image_size": int(images.shape[-1]),
                           "scenes": self.source != "karpathy"}
        self.tokenizer = TextTokenizer.from_str(self._state["tokenizer"], "word")
        self.datasets = {}
        for split, (images, captions, contents) in self.splits.items():
            ids = [[r[: self.max_len] for r in self.tokenizer.encode_batch(caps)] for caps in captions]
            self.datasets[split] = CaptionDataset(images, captions, ids, contents)

    def model_dims(self):
        tk = self.tokenizer
        return {"vocab_size": tk.vocab_size, "pad_id": tk.pad_id, "bos_id": tk.bos_id, "eos_id": tk.eos_id,
                "in_channels": self._state["channels"], "image_size": self._state["image_size"]}

    def collate(self, batch, split):
        """One reference per image as the teacher-forced target: a random one in training (a new pick every
        epoch), a fixed one otherwise so the validation loss is comparable across epochs."""
        tk = self.tokenizer
        picks = [random.choice(b["ids"]) if split == "train" else b["ids"][b["index"] % len(b["ids"])]
                 for b in batch]
        inp, lengths = pad_sequences([[tk.bos_id] + p for p in picks], tk.pad_id)
        tgt, _ = pad_sequences([p + [tk.eos_id] for p in picks], tk.pad_id)
        return {"images": torch.stack([b["image"] for b in batch]), "tokens": inp, "targets": tgt,
                "lengths": lengths, "refs": [b["refs"] for b in batch], "content": [b["content"] for b in batch]}

    def baselines(self):
        """A blind baseline on the test split: the most frequent training caption, for every image. (The
        trained blind decoder is `model.blind=true`.)"""
        train_caps = [c for caps in self.splits["train"][1] for c in caps]
        common = Counter(train_caps).most_common(1)[0][0]
        test = self.datasets["test"]
        refs = list(test.captions)
        contents = [test[i]["content"] for i in range(len(test))] if test.contents is not None else None
        return {"most_frequent_caption": caption_scores([common] * len(refs), refs, contents)}
