"""The RNN input/output types: SeqToVec, SeqToSeq, VecToSeq, EncoderDecoder; the one generating Decoder
(with attention) they share, and scheduled sampling."""
from .attention import Attention, build_attention
from .decoder import Decoder, scheduled_sampling, teacher_forcing_at
from .types import Bridge, EncoderDecoder, SeqToSeq, SeqToVec, VecToSeq, length_mask

__all__ = ["SeqToVec", "SeqToSeq", "VecToSeq", "EncoderDecoder", "Bridge", "Decoder", "length_mask", "Attention",
           "build_attention", "scheduled_sampling", "teacher_forcing_at"]
