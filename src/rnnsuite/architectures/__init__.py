"""The RNN input/output types: SeqToVec, SeqToSeq, VecToSeq, EncoderDecoder."""
from .types import Bridge, EncoderDecoder, SeqToSeq, SeqToVec, VecToSeq, length_mask

__all__ = ["SeqToVec", "SeqToSeq", "VecToSeq", "EncoderDecoder", "Bridge", "length_mask"]
