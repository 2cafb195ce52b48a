"""The step of a series (a pandas offset), said in words, inferred from timestamps, and what follows from it: the
calendar features that vary at that step, and the default seasons, lookback and horizon.

A step is either fixed (seconds, minutes, hours, days: `pd.Timedelta` applies) or a calendar step whose length
varies (business days, weeks, months, quarters, years): these have no Timedelta, so the grid of a series is
always built with the offset itself (`pd.date_range(first, last, freq=offset)`).
"""
import warnings

import numpy as np
import pandas as pd
from pandas.tseries import offsets as off
from pandas.tseries.frequencies import to_offset

from rnnsuite.data import DataError

SUPPORTED = "fixed steps (e.g. 1min, 15min, 1h, 3h, D), business days B, weeks W, months MS / ME or quarters QS / QE"
MINUTE, HOUR, DAY, WEEK = (pd.Timedelta(s) for s in ("1min", "1h", "1D", "7D"))
KINDS = {"bday": (off.BusinessDay,), "week": (off.Week,),
         "month": (off.MonthBegin, off.MonthEnd, off.BusinessMonthBegin, off.BusinessMonthEnd),
         "quarter": (off.QuarterBegin, off.QuarterEnd, off.BQuarterBegin, off.BQuarterEnd),
         "year": (off.YearBegin, off.YearEnd, off.BYearBegin, off.BYearEnd)}
# a calendar step's nominal length (for choosing defaults and features, never for a grid)
NOMINAL = {"bday": DAY, "week": WEEK, "month": pd.Timedelta(days=30.44), "quarter": pd.Timedelta(days=91.31),
           "year": pd.Timedelta(days=365.25)}


def offset_of(freq):
    """A pandas offset for a frequency (a string such as '1h', 'D', 'W', 'MS', or an offset); whole days as
    `Day` offsets. A string pandas cannot read is a DataError that says what to write."""
    if isinstance(freq, pd.Timedelta):
        offset = to_offset(freq)
    else:
        try:
            offset = to_offset(freq)
        except (ValueError, TypeError):
            raise DataError(f"data.freq={freq!r} is not a frequency pandas knows; write e.g. 15min, 1h, D, B, W "
                            "or MS") from None
    if isinstance(offset, off.Tick) and offset.nanos % DAY.value == 0:
        offset = off.Day(offset.nanos // DAY.value)  # 24h -> D, as the calendar features expect
    return offset


def kind_of(offset):
    """('fixed', its Timedelta) or (calendar kind, its nominal length × n). A step outside the supported ones
    (semi-months, business hours, custom business days, ...) is a DataError that lists what works."""
    if isinstance(offset, (off.Tick, off.Day)):
        return "fixed", pd.Timedelta(offset)
    for kind, classes in KINDS.items():
        if type(offset) in classes:
            return kind, NOMINAL[kind] * offset.n
    raise DataError(f"data.freq={offset.freqstr!r} is not a step this task can follow; use {SUPPORTED}")


UNITS = [("day", DAY), ("hour", HOUR), ("minute", MINUTE), ("second", pd.Timedelta("1s"))]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def plural(n, unit):
    return f"{n:g} {unit}" + ("" if n == 1 else "s")


def span_words(td):
    """A Timedelta in the largest unit that divides it: '1 hour', '30 minutes', '2 days', '1 week'."""
    if td % WEEK == pd.Timedelta(0):
        return plural(td // WEEK, "week")
    for unit, size in UNITS:
        if td % size == pd.Timedelta(0):
            return plural(td // size, unit)
    return str(td)


def step_words(freq):
    """The step in words, for 'one row every ...': '1 hour', '15 minutes', '1 business day', '1 week (on
    Sundays)', '1 month (on its first day)'."""
    offset = offset_of(freq)
    kind, length = kind_of(offset)
    n = offset.n
    if kind == "fixed":
        return span_words(length)
    if kind == "bday":
        return plural(n, "business day") + " (Monday to Friday)"
    if kind == "week":
        day = f" (on {WEEKDAYS[offset.weekday]}s)" if offset.weekday is not None else ""
        return plural(n, "week") + day
    where = " (on its first day)" if "Begin" in type(offset).__name__ else " (on its last day)"
    if "Business" in type(offset).__name__ or type(offset).__name__.startswith("B"):
        where = where.replace("day", "business day")
    return plural(n, kind) + where


def infer_offset(times, name="data"):
    """The step of sorted, distinct timestamps: pandas' own inference when the index is regular; otherwise (a
    series with gaps) the regular grid that holds every timestamp with the fewest missing steps, among the most
    common spacing and the calendar steps (business days, weeks, months, quarters, years) it could be."""
    idx = pd.DatetimeIndex(times)
    if len(idx) < 2:
        raise DataError(f"{name} has a single row: cannot infer the frequency; set data.freq")
    if len(idx) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 warns that infer_freq will return an offset
            found = pd.infer_freq(idx)
        if found is not None:
            return offset_of(found)
    spacing = pd.Series(np.diff(idx.to_numpy())).mode().iloc[0]
    t0, candidates = idx[0], []
    if spacing >= DAY:
        candidates += [off.BusinessDay(), off.Week(weekday=t0.dayofweek)]
    if spacing >= pd.Timedelta(days=28):
        q = (t0.month - 1) % 3 + 1
        candidates += [off.MonthBegin(), off.MonthEnd(), off.QuarterBegin(startingMonth=q),
                       off.QuarterEnd(startingMonth=q), off.YearBegin(month=t0.month), off.YearEnd(month=t0.month)]
    candidates.append(offset_of(pd.Timedelta(spacing)))  # last: on a tie (7D or W) the calendar step says more
    best = None
    for c in candidates:
        grid = pd.date_range(idx[0], idx[-1], freq=c)
        if idx.isin(grid).all() and (best is None or len(grid) < best[1]):
            best = (c, len(grid))
    if best is None:
        raise DataError(f"{name}: the timestamps follow no regular step (the most common spacing is "
                        f"{span_words(pd.Timedelta(spacing))}, but some rows are off that grid); set data.freq")
    return best[0]


# ---------------------------------------------------------------------------------------- calendar features


def calendar_parts(freq):
    """The calendar features that vary from row to row at this step: time of day below a day, day of week below a
    week, time of year from a day up (day of year; month of year for steps of a month or more)."""
    offset = offset_of(freq)
    kind, length = kind_of(offset)
    parts = []
    if length < DAY:
        parts.append("time of day")
    if length < WEEK:
        parts.append("day of week")
    if length >= DAY:
        months = {"month": 1, "quarter": 3, "year": 12}.get(kind)
        if months is None:
            parts.append("day of year")
        elif (months * offset.n) % 12:
            parts.append("month of year")
    return parts


def calendar_features(index, freq):
    """The calendar parts of the step (`calendar_parts`), each as a sine/cosine pair: always known for any
    future step. [T, 2 * parts] float32."""
    idx = pd.DatetimeIndex(index)
    feats = []
    for part in calendar_parts(freq):
        if part == "time of day":
            x = (idx.hour * 3600 + idx.minute * 60 + idx.second).to_numpy() / 86400.0
        elif part == "day of week":
            x = idx.dayofweek.to_numpy() / 7.0
        elif part == "day of year":
            x = (idx.dayofyear.to_numpy() - 1) / 365.25
        else:
            x = (idx.month.to_numpy() - 1) / 12.0
        feats += [np.sin(2 * np.pi * x), np.cos(2 * np.pi * x)]
    return np.stack(feats, 1).astype(np.float32) if feats else np.zeros((len(idx), 0), np.float32)


# ---------------------------------------------------------------------------------------- defaults per step

# (seasons {name: span}, lookback span, horizon span) per range of fixed steps; calendar steps in steps below
FIXED = [  # (steps shorter than this, seasons, lookback, horizon)
    (MINUTE, {"minute": MINUTE, "hour": HOUR}, HOUR, MINUTE),
    (pd.Timedelta("6min"), {"hour": HOUR, "day": DAY}, DAY, HOUR),
    (DAY, {"day": DAY, "week": WEEK}, WEEK, DAY),
    (WEEK, {"week": WEEK, "year": 52 * WEEK}, 8 * WEEK, 2 * WEEK),
    (pd.Timedelta(days=28), {"year": 52 * WEEK}, 104 * WEEK, 13 * WEEK),
    (None, {"year": pd.Timedelta(days=365)}, pd.Timedelta(days=3 * 365), pd.Timedelta(days=365)),
]
CALENDAR = {  # kind: (seasons in steps of 1, lookback, horizon)
    "bday": ({"week": 5, "year": 260}, 40, 10),
    "week": ({"year": 52}, 104, 13),
    "month": ({"year": 12}, 36, 12),
    "quarter": ({"year": 4}, 16, 8),
    "year": ({}, 10, 5),
}


def frequency_defaults(freq):
    """What follows from the step when the config leaves it open: {"seasons": {name: steps}, "lookback",
    "horizon", "train_stride", "eval_stride"}. A season is kept only when it is a whole number of at least 2 steps."""
    offset = offset_of(freq)
    kind, length = kind_of(offset)
    if kind == "fixed":
        seasons, back, ahead = next((s, b, a) for below, s, b, a in FIXED if below is None or length < below)

        def steps(span):
            return span / length
        seasons = {k: steps(v) for k, v in seasons.items()}
        lookback, horizon = max(1, round(steps(back))), max(1, round(steps(ahead)))
    else:
        seasons, lookback, horizon = CALENDAR[kind]
        n = offset.n
        seasons = {k: v / n for k, v in seasons.items()}
        lookback, horizon = max(1, round(lookback / n)), max(1, round(horizon / n))
    seasons = {k: int(v) for k, v in seasons.items() if v == int(v) and v >= 2}
    # val/test forecasts: below a day, one per horizon (a day: issued at the same time of day, as an operator
    # would); from a day up, one from every step (a rolling origin: more forecasts to choose on and to score)
    eval_stride = horizon if length < DAY else 1
    return {"seasons": seasons, "lookback": lookback, "horizon": horizon, "train_stride": max(1, horizon // 12),
            "eval_stride": eval_stride}
