"""Elman (tanh/relu) RNN, LSTM and GRU: textbook step equations plus a fused backend on the same parameters."""
from .equations import elman_step, gru_step, lstm_step
from .stack import RecurrentStack, build_stack, final_hidden

__all__ = ["RecurrentStack", "build_stack", "final_hidden", "elman_step", "lstm_step", "gru_step"]
