"""Dataset registry and fetchers, tokenisers, vocabularies and batching."""
from .batching import SequenceDataset, collate_labelled, pad_sequences
from .fetch import DataError, data_dir
from .registry import Source, all_sources, get_source
from .text import BOS, EOS, PAD, UNK, TextTokenizer

__all__ = ["DataError", "data_dir", "Source", "all_sources", "get_source", "TextTokenizer",
           "pad_sequences", "SequenceDataset", "collate_labelled", "PAD", "BOS", "EOS", "UNK"]
