"""Captioning figures: test images with generated and reference captions; attention maps per word."""
import textwrap

import numpy as np

from rnnsuite.plots import figure, save_figure


def _show(ax, image):
    img = image.numpy()
    ax.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=255)
    ax.set_xticks([])
    ax.set_yticks([])


def caption_grid(images, captions, refs, path, cols=4):
    """A grid of images, each titled with the generated caption (bold) and its first reference."""
    rows = (len(images) + cols - 1) // cols
    fig, axes = figure(rows, cols, figsize=(4.2 * cols, 4.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, cap, ref in zip(axes.flat, images, captions, refs):
        ax.axis("on")
        _show(ax, img)
        ax.set_title("\n".join(textwrap.wrap(cap, 38)), fontsize=9, fontweight="bold")
        ax.set_xlabel("ref: " + "\n".join(textwrap.wrap(ref[0], 40)), fontsize=8)
    return save_figure(fig, path)


def attention_grid(images, captions, attn, path, max_words=12):
    """One row per image: the image, then where the decoder looked for each generated word.
    attn [B, T, S] with S a square grid of CNN regions."""
    B = len(images)
    words = [c.replace(",", " ,").replace(";", " ;").split() for c in captions]
    T = min(max(len(w) for w in words) + 1, max_words + 1)
    fig, axes = figure(B, T + 1, figsize=(1.6 * (T + 1), 1.8 * B), squeeze=False)
    for b in range(B):
        _show(axes[b, 0], images[b])
        axes[b, 0].set_title("image", fontsize=8)
        for t in range(T):
            ax = axes[b, t + 1]
            ax.axis("off")
            if t >= attn.size(1) or t > len(words[b]):
                continue
            S = attn.size(-1)
            g = int(round(S ** 0.5))
            w = attn[b, t].numpy().reshape(g, g)
            size = images.shape[-1]
            up = np.kron(w, np.ones((size // g, size // g)))
            img = images[b].float().mean(0).numpy()
            ax.imshow(img, cmap="gray", vmin=0, vmax=255)
            ax.imshow(up, cmap="magma", alpha=0.6, extent=(0, up.shape[1], up.shape[0], 0))
            ax.set_title(words[b][t] if t < len(words[b]) else "<eos>", fontsize=8)
    return save_figure(fig, path)
