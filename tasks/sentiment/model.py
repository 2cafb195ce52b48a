"""Embedding -> bidirectional cell stack (packed) -> pooled vector -> classification head.

With `lm_pretrain_epochs` > 0 the embedding and the encoder are first trained as a language model on the
DataModule's unlabelled texts (ULMFiT, Howard & Ruder 2018; both directions, as in ELMo: the forward half of
the output at step t predicts token t+1, the backward half predicts token t-1), then fine-tuned on the labels.
The LM heads exist only during pretraining, so the checkpoint has the classifier's shape either way.
`word_dropout` replaces that share of training tokens by <unk>, so that the model learns to read around words
it does not know (Iyyer et al. 2015).
With `ensemble` = K > 1 the model holds K independently initialised classifiers (embedding, encoder, head),
trained side by side on the same batches, each on its own loss; it predicts the mean of their probabilities
(a deep ensemble, Lakshminarayanan et al. 2017: several seeds in one checkpoint). Training costs K times as much.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from rnnsuite.architectures import SeqToVec
from rnnsuite.cells import build_stack
from rnnsuite.data import TextTokenizer
from rnnsuite.metrics import SplitMetrics
from rnnsuite.training import TaskModule


class SentimentClassifier(TaskModule):
    task_name = "sentiment"

    def __init__(self, vocab_size, num_classes, pad_id, cell, optim=None, monitor=None, embed_dim=128,
                 hidden_size=128, num_layers=1, bidirectional=True, dropout=0.3, embed_dropout=0.3,
                 pooling="max", word_dropout=0.0, lm_pretrain_epochs=0, lm_lr=None, ensemble=1):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        if ensemble < 1:
            raise ValueError(f"model.ensemble must be at least 1, got {ensemble}")
        if ensemble > 1 and lm_pretrain_epochs:
            raise ValueError(f"model.lm_pretrain_epochs needs model.ensemble=1 (got {ensemble}): LM pretraining "
                             "trains one encoder")

        def member():
            embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
            encoder = SeqToVec(build_stack(cell, embed_dim, hidden_size, num_layers, bidirectional, dropout),
                               pooling)
            return embed, encoder, nn.Linear(encoder.output_size, num_classes)

        self.embed, self.encoder, self.head = member()  # the first member keeps the single model's names
        self.others = nn.ModuleList(nn.ModuleList(member()) for _ in range(ensemble - 1))
        self.drop_in, self.drop_out = nn.Dropout(embed_dropout), nn.Dropout(dropout)
        # per split, accumulated over the epoch (and synced across processes) by torchmetrics; no argument
        # checks (predictions are argmaxes: always valid), as those read the tensors back on every update
        self.metrics = SplitMetrics(lambda split: {
            "acc": MulticlassAccuracy(num_classes, average="micro", validate_args=False),
            "macro_f1": MulticlassF1Score(num_classes, average="macro", validate_args=False),
            "balanced_acc": MulticlassAccuracy(num_classes, average="macro", validate_args=False)})
        self.tokenizer = None

    def members(self):
        """[(embed, encoder, head)] of each member, the first one's under the single model's names."""
        return [(self.embed, self.encoder, self.head)] + [tuple(m) for m in self.others]

    def member_logits(self, tokens, lengths):
        """[batch, K, classes]: each member's logits."""
        return torch.stack([head(self.drop_out(encoder(self.drop_in(embed(tokens)), lengths)))
                            for embed, encoder, head in self.members()], 1)

    @staticmethod
    def mean_log_probs(member_logits):
        """Log-probabilities of the classes: the log of the members' mean probability."""
        logp = torch.log_softmax(member_logits.float(), -1)
        return torch.logsumexp(logp, 1) - math.log(logp.shape[1])

    @staticmethod
    def member_loss(member_logits, labels):
        """What training minimises: each member's cross-entropy, summed (so each keeps its own step size)."""
        K = member_logits.shape[1]
        return F.cross_entropy(member_logits.flatten(0, 1), labels.repeat_interleave(K)) * K

    def forward(self, tokens, lengths):
        return self.mean_log_probs(self.member_logits(tokens, lengths))

    def drop_words(self, tokens):
        """Training only: each real token becomes <unk> with probability `word_dropout`."""
        p = self.hparams.word_dropout
        if not p:
            return tokens
        hit = (torch.rand(tokens.shape, device=tokens.device) < p) & (tokens != self.hparams.pad_id)
        return tokens.masked_fill(hit, self.tokenizer.unk_id)

    def lm_loss(self, tokens, lengths, heads):
        """Next-token (forward direction) and previous-token (backward direction) cross-entropy."""
        out, _ = self.encoder.stack(self.drop_in(self.embed(tokens)), lengths)
        out = self.drop_out(out)
        H = self.hparams.hidden_size
        pad = self.hparams.pad_id
        fwd = heads[0](out[:, :-1, :H])
        loss = F.cross_entropy(fwd.flatten(0, 1), tokens[:, 1:].flatten(), ignore_index=pad)
        if self.hparams.bidirectional:
            bwd = heads[1](out[:, 1:, H:])
            loss = (loss + F.cross_entropy(bwd.flatten(0, 1), tokens[:, :-1].flatten(), ignore_index=pad)) / 2
        return loss

    def on_fit_start(self):
        if self.hparams.lm_pretrain_epochs and self.trainer.ckpt_path is None:  # not again on a resume
            self.pretrain_lm(self.trainer.datamodule.lm_dataloader())

    def pretrain_lm(self, loader):
        """A plain loop before the classifier's fit: Adam over the unlabelled texts, clipped at norm 1.
        Returns the mean LM loss of each epoch (nats per token)."""
        heads = nn.ModuleList(nn.Linear(self.hparams.hidden_size, self.hparams.vocab_size)
                              for _ in range(1 + self.hparams.bidirectional)).to(self.device)
        lr = self.hparams.lm_lr or (self.hparams.optim or {}).get("lr", 1e-3)
        params = list(self.embed.parameters()) + list(self.encoder.parameters()) + list(heads.parameters())
        opt = torch.optim.Adam(params, lr=lr)
        self.train()
        history = []
        for epoch in range(self.hparams.lm_pretrain_epochs):
            total, n = 0.0, 0
            for batch in loader:
                loss = self.lm_loss(batch["tokens"].to(self.device), batch["lengths"], heads)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                total, n = total + loss.detach(), n + 1  # summed on the device: no sync per step
            history.append(float(total) / max(n, 1))
            print(f"LM pretraining epoch {epoch + 1}/{self.hparams.lm_pretrain_epochs}: {history[-1]:.3f} nats/token")
        self.lm_history = history
        return history

    def _step(self, batch, split):
        tokens = self.drop_words(batch["tokens"]) if split == "train" else batch["tokens"]
        members = self.member_logits(tokens, batch["lengths"])
        logits = self.mean_log_probs(members)
        # each member learns on its own loss; the logged loss is the ensemble's NLL (with one member the same number)
        train_loss = self.member_loss(members, batch["labels"])
        loss = F.nll_loss(logits, batch["labels"])
        metrics = self.metrics[split]
        for m in metrics.values():
            m.update(logits.argmax(-1), batch["labels"])
        self.log_split(split, {"loss": loss, **metrics}, batch_size=len(logits))
        return train_loss

    # ------------------------------------------------------------------ people-facing
    def set_data_state(self, state):
        super().set_data_state(state)
        st = self.data_state
        self.tokenizer = TextTokenizer.from_str(st["tokenizer"], st["kind"]) if st else None

    @torch.no_grad()
    def classify(self, texts):
        """[(label, probability of that label, number of <unk> words)] for raw texts."""
        from rnnsuite.data import pad_sequences
        st = self.data_state
        ids = [s[: st["max_len"]] or [self.tokenizer.unk_id] for s in self.tokenizer.encode_batch(texts)]
        tokens, lengths = pad_sequences(ids, self.tokenizer.pad_id)
        was_training = self.training
        self.eval()
        probs = torch.softmax(self(tokens.to(self.device), lengths), -1).cpu()
        self.train(was_training)
        names = st["class_names"]
        return [(names[int(p.argmax())], float(p.max()), sum(i == self.tokenizer.unk_id for i in s))
                for p, s in zip(probs, ids)]

    def examples(self, datamodule, n=5):
        test = datamodule.splits["test"].head(n)
        names = self.data_state["class_names"]
        out = []
        for (label, p, _), text, gold in zip(self.classify(list(test["text"])), test["text"], test["label"]):
            out.append(f"{label:6s} {p:.2f}  (gold {names[gold]:6s})  {text[:90]}")
        return out

    def extra_results(self, datamodule, run_dir):
        from .data import scores
        names = self.data_state["class_names"]
        ood = {}
        for name, df in getattr(datamodule, "ood_frames", {}).items():
            pred = [names.index(label) for label, _, _ in self.classify(list(df["text"]))]
            ood[name] = {"size": len(df), **scores(pred, df["label"])}
        return {"out_of_domain": ood}
