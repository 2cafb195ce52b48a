"""Tokenisers (character, word, BPE) built on HF `tokenizers`, all with <pad> <bos> <eos> <unk>."""
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
PAD, BOS, EOS, UNK = range(4)
KINDS = ("char", "word", "bpe")


class TextTokenizer:
    """Thin wrapper: `encode(text) -> ids`, `decode(ids) -> text`, serialisable to a JSON string."""

    def __init__(self, tokenizer: Tokenizer, kind: str):
        self.tk, self.kind = tokenizer, kind
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = (tokenizer.token_to_id(s) for s in SPECIALS)

    @classmethod
    def train(cls, texts, kind="word", vocab_size=20000, min_frequency=1, lowercase=False):
        if kind not in KINDS:
            raise ValueError(f"unknown tokenizer kind {kind!r}; choose one of {KINDS}")
        norms = [normalizers.NFC()] + ([normalizers.Lowercase()] if lowercase else [])
        if kind == "bpe":
            tk = Tokenizer(models.BPE(unk_token="<unk>"))
            tk.pre_tokenizer = pre_tokenizers.Metaspace()
            tk.decoder = decoders.Metaspace()
            trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                          special_tokens=SPECIALS)
        else:
            tk = Tokenizer(models.WordLevel(unk_token="<unk>"))
            if kind == "char":
                tk.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
                tk.decoder = decoders.Fuse()
            else:
                tk.pre_tokenizer = pre_tokenizers.Whitespace()
            trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                                special_tokens=SPECIALS)
        tk.normalizer = normalizers.Sequence(norms)
        tk.train_from_iterator(texts, trainer=trainer)
        return cls(tk, kind)

    @property
    def vocab_size(self):
        return self.tk.get_vocab_size()

    def encode(self, text, bos=False, eos=False):
        ids = self.tk.encode(text).ids
        return ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])

    def encode_batch(self, texts, bos=False, eos=False):
        pre, post = [self.bos_id] if bos else [], [self.eos_id] if eos else []
        return [pre + e.ids + post for e in self.tk.encode_batch(list(texts))]

    def decode(self, ids):
        return self.tk.decode([i for i in ids if i not in (self.pad_id, self.bos_id, self.eos_id)])

    def tokens(self, text):
        return self.tk.encode(text).tokens

    def readable(self, text):
        """Whether any token of `text` other than <unk> is more than a space (BPE's word-start mark "▁" alone)."""
        enc = self.tk.encode(text)
        return any(i != self.unk_id and t.strip("\u2581 ") for t, i in zip(enc.tokens, enc.ids))

    def unknown(self, text):
        """The pieces of `text` that map to <unk>."""
        enc = self.tk.encode(text)
        return [text[a:b] for (a, b), i in zip(enc.offsets, enc.ids) if i == self.unk_id]

    def to_str(self):
        return self.tk.to_str()

    @classmethod
    def from_str(cls, s, kind):
        return cls(Tokenizer.from_str(s), kind)
