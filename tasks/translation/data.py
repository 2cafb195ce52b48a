"""Parallel text for the encoder-decoder: Bible verses (English -> Spanish), any parallel corpus, or dates.

Sources (`data.source`):
- `bible`: KJV / Reina-Valera 1909 verse pairs (see rnnsuite.data.sources.bible). Split by chapter: every
  chapter goes whole to train, val or test (seeded), so no verse, and no neighbouring verse, crosses splits.
- `parallel`: a user's corpus, either a TSV (`path`, columns `src`, `tgt`, optional `group`) or two aligned
  text files (`src_file`, `tgt_file`, one sentence a line). Split by `group` when given, else by line.
- `dates`: generated. A date written out in English, Spanish, French or German (CLDR formats from babel,
  or fully in words with num2words) -> its ISO form. Fast and fully local: for tests and demos.
  Split by the date itself, so one date in two languages never sits in two splits.

Light normalisation (both sides, before tokenising and scoring, and of every sentence given to `rnn-predict`):
Unicode NFC; typographic punctuation as people type it on a plain keyboard (curly quotes and apostrophes
-> ' and ", en/em dashes -> -, the ellipsis -> ..., a no-break space -> a space); whitespace collapsed; the
KJV's paragraph marks "¶", square brackets around supplied words ("[but]" -> "but") and leftover `\nd`
markup removed; a verse-initial drop-cap word in capitals ("EN el principio", "EMPERO Jehová") becomes
capitalised ("En el principio") - except the KJV's small-capital divine names (LORD, GOD, JEHOVAH), which stay.
Nothing else: 1909 spelling ("fué", "á") is kept, since it is the reference the model is scored on.

Length filter: pairs with more than `max_src_words` / `max_tgt_words` words are dropped from train.
The val and test splits take every pair of their chapters up to `test_max_src_words` / `test_max_tgt_words`
(null: the training filter), so they also hold sentences longer than any seen in training - the setting of
Bahdanau et al.'s BLEU-by-length plot - and choices made on val (the checkpoint, the beam's length penalty)
are made on verses of every length. Groups are assigned to splits from the filtered pairs, so the test limits never
change the train split. `max_src_tokens` is the model's hard limit on a BPE-tokenised source (longer test
sources are cut to it), also used at prediction time.

Tokenisation: one BPE tokenizer per side (HF tokenizers), trained on the train split only.
"""
import datetime
import functools
import random
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnsuite.data import DataError, TextTokenizer, pad_sequences
from rnnsuite.data.module import ResumableLoader, TaskDataModule
from rnnsuite.data.registry import get_source
from rnnsuite.data.sources.bible import load as load_bible

_DROP_CAP = re.compile(r"^([A-ZÁÉÍÓÚÑÜ]{2,})(?=[\s,;:.!?]|$)")
_KEEP_CAPS = {"LORD", "GOD", "JEHOVAH"}
_MARKUP = re.compile(r"\\nd\b|[¶\[\]]")
_TYPOGRAPHIC = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "‘": "'", "’": "'",
                              "‚": "'", "‛": "'", "′": "'", "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-",
                              "…": "...", "\u00a0": " ", "\u202f": " "})


def normalise(text):
    text = unicodedata.normalize("NFC", str(text)).translate(_TYPOGRAPHIC)
    text = " ".join(_MARKUP.sub(" ", text).split())
    text = re.sub(r" ([,;:.!?])", r"\1", text)  # a removed mark must not leave "word ," behind
    return _DROP_CAP.sub(lambda m: m.group(1) if m.group(1) in _KEEP_CAPS else m.group(1).capitalize(), text)


_CONTRACTIONS = [(r"\b(do|does|did|is|are|was|were|has|have|had|would|could|should) not\b", r"\1n’t"),
                 (r"\bcannot\b", "can’t"), (r"\bwill not\b", "won’t"), (r"\bI am\b", "I’m"),
                 (r"\b(you|we|they) are\b", r"\1’re"), (r"\b(it|that|he|she|there) is\b", r"\1’s"),
                 (r"\b(I|you|we|they|he|she) will\b", r"\1’ll"), (r"\b(I|you|we|they) have\b", r"\1’ve")]


def contract(text):
    """Contractions as people type them, with a curly apostrophe: "do not" -> "don’t", "I am" -> "I’m"."""
    for pattern, repl in _CONTRACTIONS:
        text = re.sub(pattern, repl, text, flags=re.IGNORECASE)
    return text


# ------------------------------------------------------------------ generated dates
_WORD_LANGS = {"en": "the {day} of {month}, {year}", "es": "{day} de {month} de {year}"}


def _date_in_words(d, lang, rng):
    from babel.dates import format_date
    from num2words import num2words
    month = format_date(d, "MMMM", locale=lang)
    if lang == "en":
        day = num2words(d.day, lang="en", to="ordinal")
    else:
        day = num2words(d.day, lang=lang)
    year = num2words(d.year, lang=lang, to="year") if rng.random() < 0.5 else num2words(d.year, lang=lang)
    return _WORD_LANGS[lang].format(day=day, month=month, year=year)


def generated_dates(n=3000, seed=0):
    """DataFrame(src, tgt, group): human-written dates in four languages -> YYYY-MM-DD; group = the date."""
    from babel.dates import format_date
    rng = random.Random(seed)
    start, span = datetime.date(1950, 1, 1), 100 * 365
    rows = []
    for _ in range(n):
        d = start + datetime.timedelta(days=rng.randrange(span))
        lang = rng.choice(["en", "es", "fr", "de"])
        style = rng.choice(["full", "long", "medium", "words"])
        if style == "words" and lang in _WORD_LANGS:
            src = _date_in_words(d, lang, rng)
        else:
            src = format_date(d, "long" if style == "words" else style, locale=lang)
        rows.append((src, d.isoformat(), d.isoformat()))
    return pd.DataFrame(rows, columns=["src", "tgt", "group"])


def split_by_group(groups, val_frac, test_frac, seed):
    """'train' / 'val' / 'test' per row: whole groups are assigned by a seeded shuffle of the sorted group ids."""
    uniq = sorted(set(groups))
    random.Random(seed).shuffle(uniq)
    n_test, n_val = round(len(uniq) * test_frac), round(len(uniq) * val_frac)
    where = {g: "test" for g in uniq[:n_test]}
    where.update({g: "val" for g in uniq[n_test:n_test + n_val]})
    return np.array([where.get(g, "train") for g in groups])


class BucketBatches(torch.utils.data.Sampler):
    """Training batches of similar source length: each epoch takes the sampler's order (fixed by the seed and the
    epoch, which Lightning sets on `sampler`), sorts every pool of 50 batches' worth by length, cuts the pools
    into batches and shuffles the batches by the same seed and epoch (less padding, so longer verses cost less;
    the order still changes every epoch). Like the sampler, it can start an epoch part-way (`resume_after`)."""

    def __init__(self, sampler, lengths, batch_size, pool=50):
        self.sampler, self.lengths, self.batch_size, self.pool = sampler, np.asarray(lengths), int(batch_size), pool
        self.skip = None  # (epoch, number of batches) to leave out once

    @property
    def epoch(self):
        return self.sampler.epoch

    def resume_after(self, epoch, n):
        self.skip = (epoch, n)

    def __len__(self):
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self):
        idx = np.fromiter(iter(self.sampler), dtype=np.int64)
        size = self.batch_size * self.pool
        batches = []
        for k in range(0, len(idx), size):
            chunk = idx[k:k + size]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[j:j + self.batch_size].tolist() for j in range(0, len(chunk), self.batch_size)]
        order = np.random.default_rng([self.sampler.seed, self.epoch]).permutation(len(batches))
        if self.skip is not None and self.skip[0] == self.epoch:
            order = order[self.skip[1]:]
        self.skip = None
        for b in order:
            yield batches[b]


class PairDataset(torch.utils.data.Dataset):
    def __init__(self, src, tgt):
        self.src, self.tgt = src, tgt

    def __len__(self):
        return len(self.src)

    def __getitem__(self, i):
        return self.src[i], self.tgt[i], i


class TranslationDataModule(TaskDataModule):
    task = "translation"
    unit = "pairs"
    sources = {"bible": "read_bible", "parallel": "read_parallel", "dates": "read_dates"}

    def __init__(self, source="bible", batch_size=64, val_frac=0.05, test_frac=0.05, seed=0,
                 src_lang="en", tgt_lang="es", path=None, src_file=None, tgt_file=None,
                 src_vocab_size=6000, tgt_vocab_size=6000, min_frequency=2, lowercase=False,
                 max_src_words=25, max_tgt_words=35, max_src_tokens=100, max_tgt_tokens=120,
                 test_max_src_words=None, test_max_tgt_words=None, bucket=False, reworded=None, fixture_size=3000,
                 num_workers=0):
        super().__init__(source, batch_size, num_workers, seed, fixture_size)
        self.val_frac, self.test_frac = val_frac, test_frac
        self.src_lang, self.tgt_lang = src_lang, tgt_lang
        self.path, self.src_file, self.tgt_file = path, src_file, tgt_file
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.min_frequency, self.lowercase = min_frequency, lowercase
        self.max_src_words, self.max_tgt_words = max_src_words, max_tgt_words
        self.max_src_tokens, self.max_tgt_tokens = max_src_tokens, max_tgt_tokens
        self.test_max_src_words = max_src_words if test_max_src_words is None else test_max_src_words
        self.test_max_tgt_words = max_tgt_words if test_max_tgt_words is None else test_max_tgt_words
        self.bucket, self.reworded = bucket, reworded

    # ------------------------------------------------------------------ raw pairs: DataFrame(src, tgt, group)
    def prepare_data(self):
        super().prepare_data()
        if self.reworded == "web":
            get_source("bible_web").fetch()

    def read_bible(self):
        df = load_bible(self.raw_dir())
        for lang in (self.src_lang, self.tgt_lang):
            if lang not in df:
                raise DataError(f"the bible source has languages en and es, not {lang!r}")
        return pd.DataFrame({"src": df[self.src_lang], "tgt": df[self.tgt_lang],
                             "group": df["book"] + " " + df["chapter"].astype(str),
                             "verse": list(zip(df["book"], df["chapter"], df["verse"]))})

    def read_dates(self):
        return generated_dates(self.fixture_size, seed=self.seed)

    def read_parallel(self):
        if self.path:
            p = Path(self.path)
            if not p.is_file():
                raise DataError(f"parallel corpus not found: {self.path}")
            try:
                df = pd.read_csv(p, sep="\t", keep_default_na=False, dtype=str, quoting=3, encoding="utf-8")
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
                raise DataError(f"cannot read {self.path} as a TSV of src and tgt: {str(e).splitlines()[0]}") \
                    from None
            if not {"src", "tgt"} <= set(df.columns):
                raise DataError(f"{self.path} needs a header with columns src and tgt (tab-separated), "
                                f"found {list(df.columns)}")
        elif self.src_file and self.tgt_file:
            sides = []
            for f in (self.src_file, self.tgt_file):
                if not Path(f).is_file():
                    raise DataError(f"parallel corpus file not found: {f}")
                try:
                    sides.append(Path(f).read_text(encoding="utf-8").splitlines())
                except UnicodeDecodeError as e:
                    raise DataError(f"{f} is not UTF-8 text ({e.reason} at byte {e.start})") from None
            if len(sides[0]) != len(sides[1]):
                raise DataError(f"{self.src_file} has {len(sides[0])} lines but {self.tgt_file} has "
                                f"{len(sides[1])}: the files must be aligned line by line")
            df = pd.DataFrame({"src": sides[0], "tgt": sides[1]})
        else:
            raise DataError("source=parallel needs data.path=pairs.tsv or data.src_file=... data.tgt_file=...")
        if "group" not in df:
            df["group"] = [str(i) for i in range(len(df))]
        return df[["src", "tgt", "group"]]

    # ------------------------------------------------------------------ splits, tokenisers, datasets
    def build(self, df):
        df = pd.DataFrame({"src": df["src"].map(normalise), "tgt": df["tgt"].map(normalise),
                           "group": df["group"].astype(str), "verse": df["verse"] if "verse" in df else None})
        self.raw_pairs = len(df)
        full = df[(df["src"].str.len() > 0) & (df["tgt"].str.len() > 0)]
        n_src, n_tgt = full["src"].str.split().str.len(), full["tgt"].str.split().str.len()
        df = full[(n_src <= self.max_src_words) & (n_tgt <= self.max_tgt_words)].reset_index(drop=True)
        if len(df) < 10:
            raise DataError(f"only {len(df)} pairs are left after the length filter "
                            f"(max_src_words={self.max_src_words}, max_tgt_words={self.max_tgt_words})")
        where = split_by_group(df["group"].tolist(), self.val_frac, self.test_frac, self.seed)
        self.splits = {k: df[where == k].reset_index(drop=True) for k in ("train", "val", "test")}
        for split in ("val", "test"):
            groups = set(self.splits[split]["group"])
            self.splits[split] = full[full["group"].isin(groups) & (n_src <= self.test_max_src_words)
                                      & (n_tgt <= self.test_max_tgt_words)].reset_index(drop=True)
        if self._state is None:
            train = self.splits["train"]
            src_tk = TextTokenizer.train(train["src"], "bpe", self.src_vocab_size, self.min_frequency, self.lowercase)
            tgt_tk = TextTokenizer.train(train["tgt"], "bpe", self.tgt_vocab_size, self.min_frequency, self.lowercase)
            self._state = {"src_tokenizer": src_tk.to_str(), "tgt_tokenizer": tgt_tk.to_str(), "kind": "bpe",
                           "max_src_tokens": self.max_src_tokens, "max_tgt_tokens": self.max_tgt_tokens,
                           "src_lang": self.src_lang, "tgt_lang": self.tgt_lang, "source": self.source}
        self.src_tk = TextTokenizer.from_str(self._state["src_tokenizer"], "bpe")
        self.tgt_tk = TextTokenizer.from_str(self._state["tgt_tokenizer"], "bpe")
        self.datasets = {k: self.encode(v) for k, v in self.splits.items()}

    def encode(self, df):
        """Source ids (cut to max_src_tokens) and target ids <bos> ... <eos> (cut to max_tgt_tokens)."""
        src = [s[: self.max_src_tokens] or [self.src_tk.unk_id] for s in self.src_tk.encode_batch(df["src"])]
        tgt = [t[: self.max_tgt_tokens] for t in self.tgt_tk.encode_batch(df["tgt"])]
        tgt = [[self.tgt_tk.bos_id] + t + [self.tgt_tk.eos_id] for t in tgt]
        return PairDataset(src, tgt)

    def model_dims(self):
        return {"src_vocab_size": self.src_tk.vocab_size, "tgt_vocab_size": self.tgt_tk.vocab_size,
                "pad_id": self.tgt_tk.pad_id, "bos_id": self.tgt_tk.bos_id, "eos_id": self.tgt_tk.eos_id}

    def collate(self, batch, split):
        src, tgt, idx = zip(*batch)
        src, src_len = pad_sequences(src, self.src_tk.pad_id)
        tgt, _ = pad_sequences(tgt, self.tgt_tk.pad_id)
        return {"src": src, "src_lengths": src_len, "tgt": tgt, "index": torch.tensor(idx)}

    def dataset(self, split):
        """Evaluation batches of similar source length: less padding, faster decoding (rows keep their index)."""
        ds = self.datasets[split]
        if split == "train":
            return ds
        return torch.utils.data.Subset(ds, sorted(range(len(ds)), key=lambda i: len(ds.src[i])))

    def train_dataloader(self):
        ds = self.datasets["train"]
        if not self.bucket or (self.trainer is not None and self.trainer.world_size > 1):  # DDP shards by sampler
            return super().train_dataloader()
        batches = BucketBatches(self.train_sampler(ds), [len(s) for s in ds.src], self.batch_size)
        return self.resumable("train", ResumableLoader(ds, batch_sampler=batches, num_workers=self.num_workers,
                                                       collate_fn=functools.partial(self.collate, split="train")))

    def reworded_test(self):
        """The test pairs with their English source reworded as people write today: the World English Bible's
        text of the same verse (modern wording, its own typographic quotes), with common contractions and
        curly apostrophes on top. DataFrame(row, src, tgt), row = the test row it rewords; None when off."""
        if self.reworded is None:
            return None
        if self.reworded != "web" or self.source != "bible" or self.src_lang != "en":
            raise DataError("data.reworded=web rewords English Bible sources only (source=bible, src_lang=en)")
        from rnnsuite.data.sources.bible import load_web
        web = load_web(get_source("bible_web").require())
        test = self.splits["test"]
        rows = [r for r, v in enumerate(test["verse"]) if web.get(tuple(v))]
        return pd.DataFrame({"row": rows, "src": [contract(web[tuple(test["verse"][r])]) for r in rows],
                             "tgt": [test["tgt"][r] for r in rows]})

    def baselines(self):
        """Copying the source as the translation: what BLEU/chrF give for shared names and numbers alone."""
        from rnnsuite.metrics import bleu_chrf
        test = self.splits["test"]
        s = bleu_chrf(list(test["src"]), [[t] for t in test["tgt"]])
        return {"copy_source": {"bleu": s["bleu"], "chrf": s["chrf"]}}
