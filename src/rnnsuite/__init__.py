"""rnnsuite: recurrent neural network applications (cells, the RNN types, one pipeline per task).

The Python API (rnnsuite.api), loaded on first use so that `import rnnsuite` stays cheap:

    run = rnnsuite.train("sentiment", "trainer.max_epochs=2", cell="gru")   # -> Run(.dir, .results, .checkpoint)
    rnnsuite.load(run.checkpoint).predict(["a moving film"])               # -> [("fresh", 0.91)]
    rnnsuite.evaluate(run.checkpoint)                                      # -> {"loss": ..., "acc": ...}
"""
__all__ = ["train", "load", "evaluate", "Run", "Predictor", "UserError"]


def __getattr__(name):
    if name in __all__:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'rnnsuite' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
