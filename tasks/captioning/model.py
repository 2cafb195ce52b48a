"""CNN encoder -> RNN decoder ("Show and Tell", Vinyals et al. 2015), with optional soft attention over the
CNN's spatial grid ("Show, Attend and Tell", Xu et al. 2015; Luong-style readout over [h; context]).

The image's pooled feature vector sets the decoder's initial state (shared `VecToSeq`, feed=init) or is fed
at every step (feed=input / both). `blind=true` trains the very same decoder with the image replaced by
zeros: a language model of captions, the baseline that proves captions depend on the image.
"""
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from rnnsuite.architectures import VecToSeq, build_attention
from rnnsuite.cells import build_stack
from rnnsuite.data import DataError, TextTokenizer
from rnnsuite.decoding import beam_search, greedy_decode, strip_after_eos
from rnnsuite.training import TaskModule
from .captions import detok
from .metrics import CaptionMetrics


def small_cnn(in_channels):
    """Three conv-BN-ReLU-pool blocks (then one more conv): 64x64 -> an 8x8 grid of 128 features."""
    layers, c = [], in_channels
    for out in (32, 64, 128):
        layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True),
                   nn.MaxPool2d(2)]
        c = out
    layers += [nn.Conv2d(c, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers), 128


def resnet18_body(in_channels, image_size, weights=None):
    """torchvision ResNet-18 without its head. Small inputs (<= 96 px) get a 3x3 stride-2 stem and no max-pool,
    so a 64x64 image still leaves a 4x4 grid. `weights`: a local state-dict file (never downloaded); its
    3-channel first conv is averaged to grayscale when needed, and dropped when the stem is replaced."""
    net = torchvision.models.resnet18(weights=None)
    if weights:
        path = Path(weights)
        if not path.is_file():
            raise DataError(f"encoder weights file not found: {weights}")
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise DataError(f"cannot read encoder weights {weights}: {type(e).__name__}") from None
        sd = {k: v for k, v in sd.get("state_dict", sd).items() if not k.startswith("fc.")}
        missing, unexpected = net.load_state_dict(sd, strict=False)
        if unexpected or [k for k in missing if not k.startswith("fc.")]:
            raise DataError(f"{weights} is not a ResNet-18 state dict ({len(missing)} missing, "
                            f"{len(unexpected)} unexpected keys)")
    if image_size <= 96:
        net.conv1 = nn.Conv2d(in_channels, 64, 3, stride=2, padding=1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        w = net.conv1.weight.data.mean(1, keepdim=True).repeat(1, in_channels, 1, 1)
        net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        net.conv1.weight.data.copy_(w)
    body = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3, net.layer4)
    return body, 512


class ImageEncoder(nn.Module):
    """uint8 images [B, C, H, W] -> a grid of region features [B, S, D] (S = grid cells)."""

    def __init__(self, arch, in_channels, image_size, feature_dim, weights=None):
        super().__init__()
        if arch == "small":
            if weights:
                raise DataError("model.weights needs model.encoder=resnet18 (the small CNN has no pretrained form)")
            self.body, channels = small_cnn(in_channels)
        elif arch == "resnet18":
            self.body, channels = resnet18_body(in_channels, image_size, weights)
        else:
            raise ValueError(f"unknown encoder {arch!r}; choose small or resnet18")
        self.proj = nn.Linear(channels, feature_dim)

    def forward(self, images):
        x = images.float() / 255.0 - 0.5
        grid = self.body(x)                                         # [B, C, h, w]
        return F.relu(self.proj(grid.flatten(2).transpose(1, 2)))   # [B, h*w, D]


class Captioner(TaskModule):
    task_name = "captioning"

    def __init__(self, vocab_size, pad_id, bos_id, eos_id, in_channels, image_size, cell, optim=None, monitor=None,
                 encoder="small", weights=None, feature_dim=256, embed_dim=128, hidden_size=256, num_layers=1,
                 dropout=0.3, feed="init", attention="none", blind=False, beam_size=1, length_penalty=0.0, max_len=40):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        # A blind model has no encoder at all, so it cannot peek at the image through any path.
        self.encoder = None if blind else ImageEncoder(encoder, in_channels, image_size, feature_dim, weights)
        self.summary = None if blind else nn.Linear(4 * feature_dim, feature_dim)
        in_size = embed_dim + (feature_dim if feed in ("input", "both") else 0)
        stack = build_stack(cell, in_size, hidden_size, num_layers, False, dropout if num_layers > 1 else 0.0)
        attn = build_attention(attention, hidden_size, feature_dim)  # over the CNN's grid of regions
        read_in = hidden_size + (feature_dim if attn is not None else 0)
        self.decoder = VecToSeq(stack, feature_dim, feed,
                                embed=nn.Sequential(nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id),
                                                    nn.Dropout(dropout)),
                                readout=nn.Sequential(nn.Dropout(dropout), nn.Linear(read_in, vocab_size)),
                                attention=attn)
        self.tokenizer = None
        self.metrics = nn.ModuleDict({f"split_{s}": CaptionMetrics() for s in ("val", "test")})

    def set_data_state(self, state):
        super().set_data_state(state)
        self.tokenizer = TextTokenizer.from_str(self.data_state["tokenizer"], "word") if self.data_state else None

    @classmethod
    def load_from_checkpoint(cls, *args, **kwargs):
        # The checkpoint holds the trained encoder: never re-read the initial weights file (it may be gone).
        kwargs.setdefault("weights", None)
        return super().load_from_checkpoint(*args, **kwargs)

    # ------------------------------------------------------------------ network
    def encode(self, images):
        """-> (vector [B, D] that starts the decoder, memory [B, S, D] that attention reads)."""
        if self.encoder is None:
            z = torch.zeros(images.size(0), 1, self.hparams.feature_dim, device=self.device)
            return z[:, 0], z
        memory = self.encoder(images)                                   # [B, S, D], S = g x g regions
        B, S, D = memory.shape
        g = int(round(S ** 0.5))
        # A 2x2 summary of the grid, not its mean: "where" survives into the vector (like a CNN's fc layer).
        quads = F.adaptive_avg_pool2d(memory.transpose(1, 2).reshape(B, D, g, g), 2).flatten(1)
        return F.relu(self.summary(quads)), memory

    def forward(self, images, tokens, lengths):
        """Teacher forcing: the whole reference in one fused pass. tokens [B, T] start with <bos>."""
        vec, memory = self.encode(images)
        return self.decoder(vec, tokens, lengths, memory)[0]

    @torch.no_grad()
    def generate(self, images, beam_size=None, return_attention=False):
        """Captions (strings) for a batch of uint8 images; with return_attention (greedy only) also the
        attention weights [B, T, S] per generated word."""
        images = images.to(self.device)
        beam = int(beam_size or self.hparams.beam_size)
        state, B = self.decoder.start(*self.encode(images)), images.size(0)
        h = self.hparams
        weights = []
        if beam > 1:
            ids = beam_search(self.decoder.step, state, h.bos_id, h.eos_id, h.max_len, B, beam, h.length_penalty,
                              self.device)
        else:
            def step(y, s):
                logits, s = self.decoder.step(y, s)
                if "attention" in s:
                    weights.append(s["attention"])
                return logits, s
            ids = greedy_decode(step, state, h.bos_id, h.eos_id, h.max_len, B, self.device)
        caps = [detok(self.tokenizer.decode(r)) for r in strip_after_eos(ids, h.eos_id)]
        if return_attention:
            return caps, (torch.stack(weights, 1).cpu() if weights else None)
        return caps

    # ------------------------------------------------------------------ training
    def _loss(self, batch):
        logits = self(batch["images"], batch["tokens"], batch["lengths"])
        return F.cross_entropy(logits.flatten(0, 1), batch["targets"].flatten(), ignore_index=self.hparams.pad_id)

    def _step(self, batch, split):
        loss, scores = self._loss(batch), {}
        if split != "train":  # caption the images: beam search only for the final score, it is slower
            metrics = self.metrics[f"split_{split}"]
            beam = self.hparams.beam_size if split == "test" else 1
            metrics.update(self.generate(batch["images"], beam_size=beam), batch["refs"], batch["content"])
            scores = metrics.scored()
        # a mean per caption token: weighted by the batch's tokens, the epoch's loss is the exact mean over the
        # split's tokens however it is batched or sharded over processes
        self.log_split(split, {"loss": loss, **scores},
                       batch_size=(batch["targets"] != self.hparams.pad_id).sum())
        return loss

    # ------------------------------------------------------------------ people-facing
    def examples(self, datamodule, n=5):
        test = datamodule.datasets["test"]
        items = [test[i] for i in range(min(n, len(test)))]
        self.eval()
        caps = self.generate(torch.stack([it["image"] for it in items]))
        return [f"{c}  |  ref: {it['refs'][0]}" for c, it in zip(caps, items)]

    def extra_results(self, datamodule, run_dir):
        from .plots import attention_grid, caption_grid
        test = datamodule.datasets["test"]
        items = [test[i] for i in range(min(12, len(test)))]
        images = torch.stack([it["image"] for it in items])
        self.eval()
        greedy, attn = self.generate(images, beam_size=1, return_attention=True)
        caps = self.generate(images) if self.hparams.beam_size > 1 else greedy
        out = {"images": {"captions": caption_grid(images, caps, [it["refs"] for it in items],
                                                   Path(run_dir) / "captions.png")},
               "decoding": f"beam {self.hparams.beam_size}" if self.hparams.beam_size > 1 else "greedy",
               "blind": bool(self.hparams.blind), "attention": self.hparams.attention or "none",
               "encoder": "none (blind)" if self.hparams.blind else self.hparams.encoder,
               "parameters": sum(p.numel() for p in self.parameters())}
        if attn is not None and not self.hparams.blind:
            out["images"]["attention"] = attention_grid(images[:4], greedy, attn[:4],
                                                        Path(run_dir) / "attention.png")
        return out
