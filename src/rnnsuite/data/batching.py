"""Batching variable-length sequences: pad to the longest in the batch, keep the lengths."""
import torch


def pad_sequences(seqs, pad_value=0, dtype=torch.long):
    """List of 1-D sequences (lists or tensors) -> padded [B, T] tensor and lengths [B]."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), int(lengths.max()) if len(seqs) else 0), pad_value, dtype=dtype)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=dtype)
    return out, lengths


class SequenceDataset(torch.utils.data.Dataset):
    """Token-id sequences with one target each (a label, or another sequence)."""

    def __init__(self, seqs, targets):
        assert len(seqs) == len(targets)
        self.seqs, self.targets = seqs, targets

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, i):
        return self.seqs[i], self.targets[i]


def collate_labelled(batch, pad_id=0):
    """[(ids, label)] -> {"tokens": [B, T], "lengths": [B], "labels": [B]}."""
    seqs, labels = zip(*batch)
    tokens, lengths = pad_sequences(seqs, pad_id)
    return {"tokens": tokens, "lengths": lengths, "labels": torch.as_tensor(labels)}
