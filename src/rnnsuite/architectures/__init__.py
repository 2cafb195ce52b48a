"""The RNN input/output types: SeqToVec, SeqToSeq, VecToSeq, EncoderDecoder."""
from .types import Bridge, EncoderDecoder, SeqToSeq, SeqToVec, VecToSeq, length_mask

__all__ = ["SeqToVec", "SeqToSeq", "VecToSeq", "EncoderDecoder", "Bridge", "length_mask"]
from .attention import Attention, build_attention  # noqa: E402

__all__ += ["Attention", "build_attention"]
