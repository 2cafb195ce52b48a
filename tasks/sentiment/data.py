"""Rotten Tomatoes snippets (or a generated fixture of the same schema), stratified train/val/test by seed."""
import functools
import random

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from rnnsuite.data import DataError, SequenceDataset, TextTokenizer, collate_labelled, get_source
from rnnsuite.data.module import TaskDataModule
from rnnsuite.data.sources.rotten_tomatoes import load as load_rotten_tomatoes
from rnnsuite.metrics import accuracy, macro_f1

CLASS_NAMES = ["rotten", "fresh"]

_POS = "brilliant moving funny gorgeous smart tender witty superb delightful gripping".split()
_NEG = "dull tedious clumsy bland lifeless muddled boring shallow tiresome awkward".split()
_FILL = "the film movie story cast plot director script is a and of its with this that feels".split()


def synthetic_reviews(n=600, seed=0):
    """Short review-like texts whose label follows from the adjectives, one negated in a quarter of them:
    the same schema as the real corpus, generated so fast tests need no registry."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = rng.choices(_FILL, k=rng.randint(4, 14))
        cue = rng.choice(_POS if label else _NEG)
        if rng.random() < 0.25:  # "not dull" is fresh, "not brilliant" is rotten
            cue = f"not {rng.choice(_NEG if label else _POS)}"
        words.insert(rng.randrange(len(words) + 1), cue)
        rows.append((" ".join(words), label))
    return pd.DataFrame(rows, columns=["text", "label"])


class SentimentDataModule(TaskDataModule):
    task = "sentiment"
    unit = "texts"
    sources = {"rotten_tomatoes": "read_rotten_tomatoes", "fixture": "read_fixture"}

    def __init__(self, source="rotten_tomatoes", batch_size=64, val_frac=0.1, test_frac=0.1, seed=0,
                 tokenizer="word", vocab_size=20000, min_frequency=2, lowercase=True, max_len=80,
                 fixture_size=600, ood=(), lm_texts=("train",), num_workers=0):
        super().__init__(source, batch_size, num_workers, seed, fixture_size)
        self.val_frac, self.test_frac = val_frac, test_frac
        self.tok_kind, self.vocab_size, self.min_frequency = tokenizer, vocab_size, min_frequency
        self.lowercase, self.max_len = lowercase, max_len
        self.ood = list(ood or [])  # out-of-domain check sets: scored after training, never trained or tuned on
        self.lm_texts = list(lm_texts or [])  # what LM pretraining reads: train (texts only), plot

    def prepare_data(self):
        super().prepare_data()
        for name in self.ood:
            if name != "fixture_ood":
                get_source(name).fetch()

    def read_rotten_tomatoes(self):
        return load_rotten_tomatoes(self.raw_dir())

    def read_fixture(self):
        return synthetic_reviews(self.fixture_size, seed=self.seed)

    def split(self, df):
        """Stratified by label, seeded: the same seed always gives the same three splits."""
        rest, test = train_test_split(df, test_size=self.test_frac, stratify=df["label"], random_state=self.seed)
        train, val = train_test_split(rest, test_size=self.val_frac / (1 - self.test_frac),
                                      stratify=rest["label"], random_state=self.seed)
        return {k: v.reset_index(drop=True) for k, v in (("train", train), ("val", val), ("test", test))}

    def build(self, df):
        self.splits = self.split(df)
        self.ood_frames = {name: load_ood(name) for name in self.ood}
        if self._state is None:
            tk = TextTokenizer.train(self.splits["train"]["text"], self.tok_kind, self.vocab_size,
                                     self.min_frequency, self.lowercase)
            self._state = {"tokenizer": tk.to_str(), "kind": self.tok_kind, "max_len": self.max_len,
                           "class_names": CLASS_NAMES}
        self.tokenizer = TextTokenizer.from_str(self._state["tokenizer"], self._state["kind"])
        self.datasets = {k: self.encode(v) for k, v in self.splits.items()}

    def encode(self, df):
        ids = [s[: self.max_len] or [self.tokenizer.unk_id] for s in self.tokenizer.encode_batch(df["text"])]
        return SequenceDataset(ids, df["label"].tolist())

    def lm_dataloader(self):
        """Unlabelled texts for language-model pretraining, cut into pieces of at most max_len tokens:
        the train split's texts ("train"; never val or test) and the corpus's unlabelled plot summaries
        ("plot", Rotten Tomatoes only)."""
        texts = []
        for name in self.lm_texts:
            if name == "train":
                texts += list(self.splits["train"]["text"])
            elif name == "plot" and self.source == "rotten_tomatoes":
                from rnnsuite.data.sources.rotten_tomatoes import load_plots
                texts += load_plots(self.raw_dir())
            elif name != "plot":
                raise DataError(f"unknown data.lm_texts entry {name!r}; use train and/or plot")
        n = self.max_len
        ids = [s[i: i + n] for s in self.tokenizer.encode_batch(texts) for i in range(0, len(s), n)]
        ids = [s for s in ids if len(s) > 1]  # a one-token piece has nothing to predict
        return torch.utils.data.DataLoader(SequenceDataset(ids, [0] * len(ids)), batch_size=self.batch_size,
                                           shuffle=True, collate_fn=functools.partial(self.collate, split="train"))

    def model_dims(self):
        return {"vocab_size": self.tokenizer.vocab_size, "num_classes": len(CLASS_NAMES),
                "pad_id": self.tokenizer.pad_id}

    def collate(self, batch, split):
        return collate_labelled(batch, self.tokenizer.pad_id)

    def baselines(self):
        """TF-IDF (word 1-2 grams) + logistic regression, fitted on train, scored on the same test split."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        train, test = self.splits["train"], self.splits["test"]
        clf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
                            LogisticRegression(C=4.0, max_iter=2000))
        clf.fit(train["text"], train["label"])
        majority = int(np.bincount(train["label"]).argmax())
        out = {"tfidf_logreg": scores(clf.predict(test["text"]), test["label"]),
               "majority_class": scores(np.full(len(test), majority), test["label"])}
        for name, df in self.ood_frames.items():  # the same fitted baselines on the out-of-domain sets
            out[f"tfidf_logreg_{name}"] = scores(clf.predict(df["text"]), df["label"])
            out[f"majority_class_{name}"] = scores(np.full(len(df), majority), df["label"])
        return out


def scores(pred, gold):
    """Accuracy, macro-F1 and balanced accuracy (the mean recall per class: a majority-class guess gets 0.5)."""
    from sklearn.metrics import balanced_accuracy_score
    pred, gold = np.asarray(pred), np.asarray(gold)
    return {"acc": accuracy(pred, gold), "macro_f1": macro_f1(pred, gold, len(CLASS_NAMES)),
            "balanced_acc": float(balanced_accuracy_score(gold, pred))}


def load_ood(name):
    """An out-of-domain labelled set, DataFrame(text, label) with the same label meaning (1 = positive)."""
    if name == "drug_reviews":
        from rnnsuite.data.sources.drug_reviews import load
        return load(get_source(name).require())
    if name == "fixture_ood":  # fixture reviews whose filler words the training fixture never has
        df = synthetic_reviews(200, seed=99)
        df["text"] = df["text"].str.replace("film", "drug").str.replace("movie", "pill")
        return df
    raise DataError(f"unknown out-of-domain sentiment set {name!r}; use drug_reviews")
