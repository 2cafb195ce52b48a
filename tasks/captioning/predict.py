"""`rnn-predict task=captioning ckpt=... image=path.png` (or image=folder/): one caption per image.

Any size and colour mode is accepted: each image is converted to the model's channels and resized to its
input size, with a note saying so. Unreadable, empty, corrupt and non-image files get a one-line error.
`caption` is the Python API's answer (`rnnsuite.load(ckpt).caption(images)`).
"""
from pathlib import Path

import torch

from rnnsuite import inputs
from rnnsuite.inputs import UserError, positive_int
from rnnsuite.data import DataError
from .data import read_image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


def image_paths(arg):
    if not arg:
        raise UserError("give image=PATH (an image file, or a folder of images)")
    path = Path(str(arg))
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise UserError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}")
        return files
    if not path.exists():
        raise UserError(f"image not found: {path}")
    return [path]


def predict(model, cfg):
    paths = image_paths(cfg.image)
    captions, notes = caption_files(model, paths, cfg.beam_size)
    for p, cap, note in zip(paths, captions, notes):
        print(f"{p.name}\t{cap}" + (f"\t[note: {note}]" if note else ""))
    return list(zip([str(p) for p in paths], captions))


def caption(model, images, beam_size=None):
    """One caption per image file (`images`: a file, a folder of images, or a list of files); what
    `caption_files` notes about an image goes to stderr."""
    paths = image_paths(images) if isinstance(images, (str, Path)) else [p for i in images for p in image_paths(i)]
    if not paths:
        raise UserError("no images given: give an image file, a folder of images or a list of files")
    captions, notes = caption_files(model, paths, beam_size)
    for p, said in zip(paths, notes):
        if said:
            inputs.note(f"{p.name}: {said}")
    return captions


def caption_files(model, paths, beam_size=None):
    """(captions, notes) for image files: each converted to the model's channels and size (a note says so)."""
    st = model.data_state
    channels, size = st["channels"], st["image_size"]
    arrays, notes = [], []
    for p in paths:
        try:
            arr, note = read_image(p, channels, size)
        except DataError as e:
            raise UserError(str(e)) from None
        if st.get("scenes") and arr.mean() > 127:  # the scenes are light items on black
            note = "; ".join(filter(None, [note, "mostly bright: the model was trained on light items on a "
                                                 "dark background (invert the image if captions look wrong)"]))
        arrays.append(torch.from_numpy(arr))
        notes.append(note)
    beam = positive_int(1 if beam_size is None else beam_size, "beam_size")
    captions = []
    for i in range(0, len(arrays), 64):
        captions += model.generate(torch.stack(arrays[i:i + 64]), beam_size=beam)
    return captions, notes


def example_image(path):
    """A scene in the generated fixture's style, as a PNG (the contract test's input)."""
    from PIL import Image

    from .data import fixture_items, make_scenes
    canvases = make_scenes(*fixture_items(5, seed=0), n=1, seed=11)[0]
    Image.fromarray(canvases[0, 0]).save(path)
    return path
