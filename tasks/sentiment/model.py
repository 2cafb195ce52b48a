"""Embedding -> bidirectional cell stack (packed) -> pooled vector -> classification head."""
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
                 pooling="max"):
        super().__init__(optim, monitor)
        self.save_hyperparameters()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.encoder = SeqToVec(build_stack(cell, embed_dim, hidden_size, num_layers, bidirectional, dropout),
                                pooling)
        self.drop_in, self.drop_out = nn.Dropout(embed_dropout), nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.output_size, num_classes)
        # per split, accumulated over the epoch (and synced across processes) by torchmetrics
        self.metrics = SplitMetrics(lambda split: {"acc": MulticlassAccuracy(num_classes, average="micro"),
                                                   "macro_f1": MulticlassF1Score(num_classes, average="macro")})
        self.tokenizer = None

    def forward(self, tokens, lengths):
        return self.head(self.drop_out(self.encoder(self.drop_in(self.embed(tokens)), lengths)))

    def _step(self, batch, split):
        logits = self(batch["tokens"], batch["lengths"])
        loss = F.cross_entropy(logits, batch["labels"])
        metrics = self.metrics[split]
        for m in metrics.values():
            m.update(logits.argmax(-1), batch["labels"])
        self.log_split(split, {"loss": loss, **metrics}, batch_size=len(logits))
        return loss

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



