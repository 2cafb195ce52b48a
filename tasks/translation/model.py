"""Bidirectional encoder -> (attention) -> decoder, any cell; greedy and beam decoding; BLEU / chrF.

Source embedding -> bidirectional stack (hidden/2 per direction, so the memory has `hidden_size` features)
-> bridge -> unidirectional decoder stack -> readout tanh(W [h; context]) -> vocabulary. Without attention the
encoder's summary c (its final states) also enters every decoder step and the readout, as in Cho et al. 2014's
RNNencdec (`summary_input`, on by default there): fed only as the initial state, the decoder learned to all but
ignore it and wrote a few generic verses whatever the source (results/bahdanau.md, "Why the model without
attention failed"). The encoder-decoder,
attention and decoders are the shared ones in rnnsuite; this file adds embeddings, loss and scoring.
"""
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from rnnsuite.architectures import EncoderDecoder, build_attention, teacher_forcing_at
from rnnsuite.atomic import write_text
from rnnsuite.cells import build_stack
from rnnsuite.data import TextTokenizer, pad_sequences
from rnnsuite.decoding import beam_search, greedy_decode, strip_after_eos
from rnnsuite.inputs import UserError
from rnnsuite.metrics import CorpusBLEU, CorpusChrF, SplitMetrics, bleu_chrf
from rnnsuite.training import TaskModule

# English source words per bucket: on the Bible's default test split (1,340 verses) each holds 225-318 verses
# (246, 287, 264, 225, 318), enough for a bucket's corpus BLEU to mean something (1-10 words held 36)
BUCKETS = [(1, 15), (16, 20), (21, 25), (26, 30), (31, 10**6)]


class Translator(TaskModule):
    task_name = "translation"

    def __init__(self, src_vocab_size, tgt_vocab_size, pad_id, bos_id, eos_id, cell, optim=None, monitor=None,
                 embed_dim=256, hidden_size=256, num_layers=1, dropout=0.2, attention="general",
                 attention_input=False, summary_input=None, teacher_forcing_start=1.0, teacher_forcing_end=1.0,
                 label_smoothing=0.1, beam_size=5, length_penalty=0.6, num_heatmaps=4):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        H = hidden_size
        if H % 2:
            raise ValueError(f"hidden_size must be even (the encoder uses hidden_size/2 per direction), got {H}")
        self.src_embed = nn.Embedding(src_vocab_size, embed_dim, padding_idx=pad_id)
        self.tgt_embed = nn.Sequential(nn.Embedding(tgt_vocab_size, embed_dim, padding_idx=pad_id),
                                       nn.Dropout(dropout))
        self.drop = nn.Dropout(dropout)
        encoder = build_stack(cell, embed_dim, H // 2, num_layers, True, dropout)
        attn = build_attention(attention, H, H)
        summary = (attn is None) if summary_input is None else bool(summary_input)  # None: Cho et al. without attention
        decoder = build_stack(cell, embed_dim + (H if attention_input and attn else 0) + (H if summary else 0), H,
                              num_layers, False, dropout)
        readout = nn.Sequential(nn.Linear(H + (H if attn else 0) + (H if summary else 0), H), nn.Tanh(),
                                nn.Dropout(dropout), nn.Linear(H, tgt_vocab_size))
        self.seq2seq = EncoderDecoder(encoder, decoder, self.tgt_embed, readout, attention=attn,
                                      attention_input=bool(attention_input and attn), summary_input=summary)
        # per split, accumulated over the epoch (and synced across processes): token accuracy under teacher
        # forcing, and corpus BLEU / chrF of decoded output (sacrebleu's statistics)
        self.metrics = SplitMetrics(self._metrics_of)
        self._hyps = {}
        self.src_tokenizer = self.tgt_tokenizer = None

    def _metrics_of(self, split):
        h = self.hparams
        # no argument checks (predictions are argmaxes): they read the tensors back on every update
        out = {"token_acc": MulticlassAccuracy(h.tgt_vocab_size, average="micro", ignore_index=h.pad_id,
                                               validate_args=False)}
        if split != "train":
            out.update(bleu=CorpusBLEU(), chrf=CorpusChrF())
        if split == "test" and h.beam_size > 1:
            out.update(bleu_beam1=CorpusBLEU(), chrf_beam1=CorpusChrF())
        return out

    def set_data_state(self, state):
        super().set_data_state(state)
        st = self.data_state
        self.src_tokenizer = TextTokenizer.from_str(st["src_tokenizer"], "bpe") if st else None
        self.tgt_tokenizer = TextTokenizer.from_str(st["tgt_tokenizer"], "bpe") if st else None

    # ------------------------------------------------------------------ training
    def forward(self, src, src_lengths, tgt_in, teacher_forcing=1.0):
        return self.seq2seq(self.drop(self.src_embed(src)), src_lengths, tgt_in, teacher_forcing)

    def _loss(self, batch, smoothing):
        tgt = batch["tgt"]
        h = self.hparams
        tf = teacher_forcing_at(self.current_epoch, self.trainer.max_epochs if self._trainer else 1,
                                h.teacher_forcing_start, h.teacher_forcing_end) if self.training else 1.0
        logits = self(batch["src"], batch["src_lengths"], tgt[:, :-1], tf)
        gold = tgt[:, 1:]
        loss = F.cross_entropy(logits.transpose(1, 2), gold, ignore_index=h.pad_id, label_smoothing=smoothing)
        return loss, logits.argmax(-1), gold

    def _step(self, batch, split):
        # label smoothing in training only: evaluation reports plain NLL per token, comparable across settings
        loss, pred, gold = self._loss(batch, self.hparams.label_smoothing if split == "train" else 0.0)
        metrics = self.metrics[split]
        metrics["token_acc"].update(pred, gold)
        if split != "train":
            self._decode_and_score(batch, split, self.test_beams() if split == "test" else [1])
        # the loss is a mean per target token, so the epoch's mean weighs each batch by its tokens: the exact mean
        # over the split's tokens however the split is batched or sharded over processes
        self.log_split(split, {"loss": loss, **metrics}, batch_size=(gold != self.hparams.pad_id).sum())
        return loss

    def _decode_and_score(self, batch, split, beams):
        metrics = self.metrics[split]
        refs = self.trainer.datamodule.splits[split]["tgt"]
        rows = batch["index"].tolist()
        for beam in beams:
            texts = [self.tgt_tokenizer.decode(ids) for ids in self.decode(batch["src"], batch["src_lengths"], beam)]
            sfx = "" if beam == max(beams) else f"_beam{beam}"
            metrics[f"bleu{sfx}"].update(texts, [[refs[i]] for i in rows])
            metrics[f"chrf{sfx}"].update(texts, [[refs[i]] for i in rows])
            if split == "test":
                self._hyps.setdefault(beam, {}).update(zip(rows, texts))

    def test_beams(self):
        """Test decoding: greedy and, when wider, the configured beam (metrics `bleu`: the widest, `bleu_beam1`)."""
        return sorted({1, int(self.hparams.beam_size)})

    def on_test_epoch_start(self):
        self._hyps = {}

    def on_test_epoch_end(self):
        """Each beam's hypotheses in test-row order, and sacrebleu's signatures, for the results and plots (under
        DDP gathered from every process, which each decoded its own part of the test split)."""
        if self.trainer.world_size > 1:
            import torch.distributed as dist
            parts = [None] * self.trainer.world_size
            dist.all_gather_object(parts, self._hyps)
            self._hyps = {}
            for part in parts:
                for beam, hyps in part.items():
                    self._hyps.setdefault(beam, {}).update(hyps)
        self.test_outputs = {}
        for beam, hyps in sorted(self._hyps.items()):
            sfx = "" if beam == max(self._hyps) else f"_beam{beam}"
            rows = sorted(hyps)
            signatures = {f"{k}_signature": self.metrics["test"][f"{k}{sfx}"].signature() for k in ("bleu", "chrf")}
            self.test_outputs[beam] = (rows, [hyps[r] for r in rows], signatures)

    # ------------------------------------------------------------------ decoding
    @torch.no_grad()
    def decode(self, src, src_lengths, beam=1, alpha=None):
        """Target id lists (no <bos>/<eos>) for a padded source batch; beam=1 is greedy."""
        was_training = self.training
        self.eval()
        src, src_lengths = src.to(self.device), src_lengths.to(self.device)
        state = self.seq2seq.encode(self.src_embed(src), src_lengths)
        max_len = min(self.data_state["max_tgt_tokens"] + 1, int(2 * src_lengths.max()) + 10)
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

    def encode_sources(self, texts, too_long="error"):
        """Normalised texts -> id lists, with the model's limit on source length applied (error or truncate)."""
        from .data import normalise
        limit = self.data_state["max_src_tokens"]
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
        for _ in range(self.data_state["max_tgt_tokens"]):
            logits, state = self.seq2seq.step(y, state)
            y = logits.argmax(-1)
            weights.append(state["attention"][0].cpu())
            if int(y) == self.hparams.eos_id:
                break
            out.append(int(y))
        src_pieces = [self.src_tokenizer.tk.id_to_token(i) for i in ids]
        tgt_pieces = [self.tgt_tokenizer.tk.id_to_token(i) for i in out] + ["</s>"]
        return src_pieces, tgt_pieces, torch.stack(weights).numpy()

    @torch.no_grad()
    def source_reliance(self, datamodule, batch_size=64, seed=0):
        """How much the model reads the source: test NLL per target token (teacher forcing, no smoothing) with each
        verse's own source and with another verse's (a seeded derangement). A decoder that ignores the source
        scores the same on both."""
        import numpy as np
        ds = datamodule.datasets["test"]
        n = len(ds)
        if n < 2:
            return None
        perm = np.random.default_rng(seed).permutation(n)
        fixed = np.flatnonzero(perm == np.arange(n))
        perm[fixed] = perm[(fixed + 1) % n]  # no verse keeps its own source
        was_training = self.training
        self.eval()
        out = {}
        for name, order in (("own", np.arange(n)), ("other", perm)):
            total, tokens = 0.0, 0
            for k in range(0, n, batch_size):
                rows = range(k, min(n, k + batch_size))
                batch = datamodule.collate([(ds.src[order[i]], ds.tgt[i], i) for i in rows], "test")
                batch = {key: v.to(self.device) for key, v in batch.items()}
                tgt = batch["tgt"]
                logits = self(batch["src"], batch["src_lengths"], tgt[:, :-1])
                total += float(F.cross_entropy(logits.transpose(1, 2), tgt[:, 1:], ignore_index=self.hparams.pad_id,
                                               reduction="sum"))
                tokens += int((tgt[:, 1:] != self.hparams.pad_id).sum())
            out[f"nll_{name}_source"] = total / tokens
        out["nll_gain"] = out["nll_other_source"] - out["nll_own_source"]
        self.train(was_training)
        return out

    def score_reworded(self, reworded, outs, test):
        """BLEU / chrF of the reworded sources (decoded as `rnn-predict` would: raw text in) against those of
        the original sources of the same test rows, per beam."""
        res = {}
        for beam, (rows, texts, _) in outs.items():
            by_row = dict(zip(rows, texts))
            refs = [[t] for t in reworded["tgt"]]
            new = bleu_chrf(self.translate(list(reworded["src"]), beam, too_long="truncate"), refs)
            old = bleu_chrf([by_row[r] for r in reworded["row"]], refs)
            res[f"beam{beam}"] = {"n": len(reworded), "bleu": new["bleu"], "chrf": new["chrf"],
                                  "bleu_original": old["bleu"], "chrf_original": old["chrf"]}
        return res

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
        res = {"pairs_before_filter": datamodule.raw_pairs, "images": {}}
        if not outs:
            return res
        res["sacrebleu"] = {f"beam{b}": signatures for b, (_, _, signatures) in outs.items()}
        src_words = test["src"].str.split().str.len()
        buckets = {}
        for beam, (rows, texts, _) in outs.items():
            by_row = dict(zip(rows, texts))
            for lo, hi in BUCKETS:
                sel = [r for r in rows if lo <= src_words[r] <= hi]
                if len(sel) >= 5:
                    s = bleu_chrf([by_row[r] for r in sel], [[test["tgt"][r]] for r in sel])
                    label = f"{lo}-{hi}" if hi < 10**6 else f"{lo}+"
                    buckets.setdefault(f"beam{beam}", {})[label] = {
                        "bleu": s["bleu"], "chrf": s["chrf"], "n": len(sel),
                        "mean_words": float(sum(src_words[r] for r in sel) / len(sel))}
        res["bleu_by_source_length"] = buckets
        res["source_reliance"] = self.source_reliance(datamodule)
        reworded = datamodule.reworded_test()
        if reworded is not None and len(reworded):
            res["reworded"] = self.score_reworded(reworded, outs, test)
        res["images"]["bleu_by_length"] = str(bleu_by_length_plot(buckets, run_dir / "bleu_by_length.png",
                                                                  self.hparams.attention))
        write_text(run_dir / "test_translations.tsv",
                   "src\tref\thyp\n" + "".join(f"{test['src'][r]}\t{test['tgt'][r]}\t{t}\n"
                                                for r, t in zip(*outs[max(outs)][:2])))
        if self.seq2seq.attention is not None and self.hparams.num_heatmaps:
            order = sorted(range(len(test)), key=lambda r: src_words[r])
            pick = [order[int(q * (len(order) - 1))] for q in (0.5, 0.75, 0.9, 1.0)][: self.hparams.num_heatmaps]
            maps = [self.attention_map(test["src"][r]) for r in pick]
            res["images"]["attention_heatmaps"] = str(attention_heatmaps(maps, run_dir / "attention_heatmaps.png"))
        return res
