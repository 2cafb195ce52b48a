"""The paper-style studies behind `rnn-reproduce STUDY`: each a grid of `rnn-train` runs and its report."""
from . import (bahdanau, captioning, chung2014, copy, exploding, forecast, forecast_blend, mr, own_series, sentiment,
               short_series, tbptt, vanishing)

STUDIES = {m.STUDY.name: m.STUDY for m in (vanishing, exploding, copy, chung2014, mr, sentiment, bahdanau, tbptt,
                                           forecast, forecast_blend, captioning, short_series, own_series)}
