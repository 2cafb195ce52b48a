"""Bidirectional encoder -> (attention) -> decoder, any cell; greedy and beam decoding; BLEU / chrF.

Source embedding -> bidirectional stack (hidden/2 per direction, so the memory has `hidden_size` features)
-> bridge -> unidirectional decoder stack -> readout tanh(W [h; context]) -> vocabulary. The encoder-decoder,
attention and decoders are the shared ones in rnnsuite; this file adds embeddings, loss and scoring.
"""
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from rnnsuite.architectures import EncoderDecoder, build_attention
from rnnsuite.cells import build_stack
from rnnsuite.data import TextTokenizer, pad_sequences
from rnnsuite.decoding import beam_search, greedy_decode, strip_after_eos
from rnnsuite.inputs import UserError
from rnnsuite.metrics import bleu_chrf
from rnnsuite.training import TaskModule

BUCKETS = [(1, 10), (11, 15), (16, 20), (21, 25), (26, 35), (36, 10**6)]


class Translator(TaskModule):
    task_name = "translation"
    monitor, monitor_mode = "val/bleu", "max"

    def __init__(self, src_vocab_size, tgt_vocab_size, pad_id, bos_id, eos_id, cell, optim=None, data_state=None,
                 embed_dim=256, hidden_size=256, enc_layers=1, dec_layers=1, dropout=0.2, attention="general",
                 attention_input=False, teacher_forcing=1.0, label_smoothing=0.1, beam_size=5, length_penalty=0.6,
                 num_heatmaps=4):
        super().__init__(optim)
        self.save_hyperparameters()
        H = hidden_size
        if H % 2:
            raise ValueError(f"hidden_size must be even (the encoder uses hidden_size/2 per direction), got {H}")
        self.src_embed = nn.Embedding(src_vocab_size, embed_dim, padding_idx=pad_id)
        self.tgt_embed = nn.Sequential(nn.Embedding(tgt_vocab_size, embed_dim, padding_idx=pad_id),
                                       nn.Dropout(dropout))
        self.drop = nn.Dropout(dropout)
        encoder = build_stack(cell, embed_dim, H // 2, enc_layers, True, dropout)
        attn = build_attention(attention, H, H)
        decoder = build_stack(cell, embed_dim + (H if attention_input and attn else 0), H, dec_layers, False, dropout)
        readout = nn.Sequential(nn.Linear(H + (H if attn else 0), H), nn.Tanh(), nn.Dropout(dropout),
                                nn.Linear(H, tgt_vocab_size))
        self.seq2seq = EncoderDecoder(encoder, decoder, self.tgt_embed, readout, attention=attn,
                                      attention_input=bool(attention_input and attn))
        self._hyps = {}

    # ------------------------------------------------------------------ training
    def forward(self, src, src_lengths, tgt_in, teacher_forcing=1.0):
        return self.seq2seq(self.drop(self.src_embed(src)), src_lengths, tgt_in, teacher_forcing)

    def _loss(self, batch, smoothing):
        tgt = batch["tgt"]
        tf = self.hparams.teacher_forcing if self.training else 1.0
        logits = self(batch["src"], batch["src_lengths"], tgt[:, :-1], tf)
        gold = tgt[:, 1:]
        loss = F.cross_entropy(logits.transpose(1, 2), gold, ignore_index=self.hparams.pad_id,
                               label_smoothing=smoothing)
        real = gold != self.hparams.pad_id
        acc = ((logits.argmax(-1) == gold) & real).sum() / real.sum()
        return loss, acc

    def training_step(self, batch, _):
        loss, acc = self._loss(batch, self.hparams.label_smoothing)
        self.log_split("train", {"loss": loss, "acc": acc}, batch_size=batch["src"].size(0))
        return loss

    def _eval_step(self, batch, split, beams):
        loss, acc = self._loss(batch, 0.0)  # plain NLL per token: comparable across smoothing settings
        self.log_split(split, {"loss": loss, "acc": acc}, batch_size=batch["src"].size(0))
        for beam in beams:
            ids = self.decode(batch["src"], batch["src_lengths"], beam)
            self._hyps.setdefault((split, beam), {}).update(zip(batch["index"].tolist(), ids))

    def validation_step(self, batch, _):
        self._eval_step(batch, "val", [1])

    def test_step(self, batch, _):
        self._eval_step(batch, "test", sorted({1, int(self.hparams.beam_size)}))

    def _score(self, split, beam):
        """Detokenised hypotheses against the normalised references of the rows decoded."""
        hyps = self._hyps.pop((split, beam), {})
        refs = self.trainer.datamodule.splits[split]["tgt"]
        rows = sorted(hyps)
        texts = [self.tgt_tokenizer.decode(hyps[i]) for i in rows]
        return rows, texts, bleu_chrf(texts, [[refs[i] for i in rows]])

    def on_validation_epoch_end(self):
        if ("val", 1) in self._hyps:
            s = self._score("val", 1)[2]
            self.log("val/bleu", s["bleu"], prog_bar=True)
            self.log("val/chrf", s["chrf"])

    def on_test_epoch_end(self):
        self.test_outputs = {}
        for split, beam in sorted(k for k in self._hyps if k[0] == "test"):
            rows, texts, s = self._score(split, beam)
            self.test_outputs[beam] = (rows, texts, s)
            sfx = "" if beam == self.hparams.beam_size else f"_beam{beam}"
            self.log(f"test/bleu{sfx}", s["bleu"])
            self.log(f"test/chrf{sfx}", s["chrf"])

    # ------------------------------------------------------------------ decoding
    @torch.no_grad()
    def decode(self, src, src_lengths, beam=1, alpha=None):
        """Target id lists (no <bos>/<eos>) for a padded source batch; beam=1 is greedy."""
        was_training = self.training
        self.eval()
        src, src_lengths = src.to(self.device), src_lengths.to(self.device)
        state = self.seq2seq.encode(self.src_embed(src), src_lengths)
        max_len = min(self.hparams.data_state["max_tgt_tokens"] + 1, int(2 * src_lengths.max()) + 10)
        h = self.hparams

        def step(y, st):  # <pad> and <bos> are never outputs
            logits, st = self.seq2seq.step(y, st)
            return logits.index_fill(-1, self._never, float("-inf")), st
        self._never = torch.tensor([h.pad_id, h.bos_id], device=self.device)
        if beam <= 1:
            ids = greedy_decode(step, state, h.bos_id, h.eos_id, max_len, src.size(0), self.device)
        else:
            ids = beam_search(step, state, h.bos_id, h.eos_id, max_len, src.size(0), beam,
                              h.length_penalty if alpha is None else alpha, self.device)
        self.train(was_training)
        return strip_after_eos(ids, h.eos_id)

    @property
    def src_tokenizer(self):
        if not hasattr(self, "_src_tk"):
            self._src_tk = TextTokenizer.from_str(self.hparams.data_state["src_tokenizer"], "bpe")
        return self._src_tk

    @property
    def tgt_tokenizer(self):
        if not hasattr(self, "_tgt_tk"):
            self._tgt_tk = TextTokenizer.from_str(self.hparams.data_state["tgt_tokenizer"], "bpe")
        return self._tgt_tk

    def encode_sources(self, texts, too_long="error"):
        """Normalised texts -> id lists, with the model's limit on source length applied (error or truncate)."""
        from .data import normalise
        limit = self.hparams.data_state["max_src_tokens"]
        out = []
        for i, text in enumerate(texts, 1):
            text = normalise(text)
            if not text:
                raise UserError("empty source: give at least one word" if len(texts) == 1 else f"line {i} is empty")
            ids = self.src_tokenizer.encode(text)
            if len(ids) > limit:
                where = "" if len(texts) == 1 else f"line {i}: "
                if too_long != "truncate":
                    raise UserError(f"{where}source is {len(ids)} subword tokens, longer than this model's limit of "
                                    f"{limit}; shorten it or pass too_long=truncate")
                warnings.warn(f"{where}source truncated from {len(ids)} to {limit} subword tokens", stacklevel=2)
                ids = ids[:limit]
            out.append(ids)
        return out

    def translate(self, texts, beam=1, too_long="error", batch_size=64):
        """Raw sentences -> translations (strings)."""
        ids = self.encode_sources(texts, too_long)
        out = []
        for k in range(0, len(ids), batch_size):
            src, lengths = pad_sequences(ids[k:k + batch_size], self.src_tokenizer.pad_id)
            out += [self.tgt_tokenizer.decode(t) for t in self.decode(src, lengths, beam)]
        return out

    @torch.no_grad()
    def attention_map(self, text):
        """Greedy translation of one sentence with its attention weights: (src pieces, tgt pieces, [T, S])."""
        self.eval()
        ids = self.encode_sources([text], "truncate")[0]
        src = torch.tensor([ids], device=self.device)
        state = self.seq2seq.encode(self.src_embed(src), torch.tensor([len(ids)], device=self.device))
        y = torch.tensor([self.hparams.bos_id], device=self.device)
        out, weights = [], []
        for _ in range(self.hparams.data_state["max_tgt_tokens"]):
            logits, state = self.seq2seq.step(y, state)
            y = logits.argmax(-1)
            weights.append(state["attention"][0].cpu())
            if int(y) == self.hparams.eos_id:
                break
            out.append(int(y))
        src_pieces = [self.src_tokenizer.tk.id_to_token(i) for i in ids]
        tgt_pieces = [self.tgt_tokenizer.tk.id_to_token(i) for i in out] + ["</s>"]
        return src_pieces, tgt_pieces, torch.stack(weights).numpy()

    # ------------------------------------------------------------------ people-facing results
    def examples(self, datamodule, n=5):
        outs = getattr(self, "test_outputs", {})
        if not outs:
            return []
        rows, texts, _ = outs[max(outs)]
        test = datamodule.splits["test"]
        lines = []
        for r, hyp in list(zip(rows, texts))[:: max(1, len(rows) // n)][:n]:
            lines += [f"src: {test['src'][r]}", f"ref: {test['tgt'][r]}", f"hyp: {hyp}", ""]
        return lines

    def extra_results(self, datamodule, run_dir):
        from .plots import attention_heatmaps, bleu_by_length_plot
        outs = getattr(self, "test_outputs", {})
        test = datamodule.splits["test"]
        res = {"split_sizes": datamodule.split_sizes(), "images": {}}
        if not outs:
            return res
        res["sacrebleu"] = {f"beam{b}": {"bleu_signature": s["bleu_signature"],
                                         "chrf_signature": s["chrf_signature"]} for b, (_, _, s) in outs.items()}
        src_words = test["src"].str.split().str.len()
        buckets = {}
        for beam, (rows, texts, _) in outs.items():
            by_row = dict(zip(rows, texts))
            for lo, hi in BUCKETS:
                sel = [r for r in rows if lo <= src_words[r] <= hi]
                if len(sel) >= 5:
                    s = bleu_chrf([by_row[r] for r in sel], [[test["tgt"][r] for r in sel]])
                    label = f"{lo}-{hi}" if hi < 10**6 else f"{lo}+"
                    buckets.setdefault(f"beam{beam}", {})[label] = {"bleu": s["bleu"], "chrf": s["chrf"], "n": len(sel)}
        res["bleu_by_source_length"] = buckets
        res["images"]["bleu_by_length"] = str(bleu_by_length_plot(buckets, run_dir / "bleu_by_length.png",
                                                                  self.hparams.attention))
        (run_dir / "test_translations.tsv").write_text(
            "src\tref\thyp\n" + "".join(f"{test['src'][r]}\t{test['tgt'][r]}\t{t}\n"
                                         for r, t in zip(*outs[max(outs)][:2])), encoding="utf-8")
        if self.seq2seq.attention is not None and self.hparams.num_heatmaps:
            order = sorted(range(len(test)), key=lambda r: src_words[r])
            pick = [order[int(q * (len(order) - 1))] for q in (0.5, 0.75, 0.9, 1.0)][: self.hparams.num_heatmaps]
            maps = [self.attention_map(test["src"][r]) for r in pick]
            res["images"]["attention_heatmaps"] = str(attention_heatmaps(maps, run_dir / "attention_heatmaps.png"))
        return res
