"""`rnn-predict task=forecasting ckpt=... csv=recent.csv [out=forecast.csv]`: the next H steps from the last
L rows, written as a CSV (median and quantiles per target) and a PNG.

recent.csv has the training data's columns. Known-in-future covariates (other than the calendar, which the
task derives) must be given for the H steps to forecast: add H rows after the last observed target with the
target left empty and the known covariates filled in. `forecast` takes the same rows as a DataFrame (the Python
API, `rnnsuite.load(ckpt).forecast(df)`).
"""

import numpy as np
import pandas as pd
import torch

from rnnsuite.atomic import atomic_path
from rnnsuite.data import DataError
from rnnsuite.inputs import UserError, existing_file, output_path

from .data import build_features, report_filled, validate_frame


def read_recent(path, st, fill_na=None, fill_gaps=None):
    """The validated frame and the number of history rows (those up to the last observed target)."""
    path = existing_file(path, "CSV file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read {path} as CSV: {str(e).splitlines()[0]}") from None
    return recent_frame(raw, st, fill_na, fill_gaps, path.name)


def recent_frame(raw, st, fill_na=None, fill_gaps=None, name="the DataFrame"):
    """`read_recent` for a frame already read (a CSV's text, or a DataFrame given in Python)."""
    targets, past, known = st["targets"], st["past"], st["known"]
    frame, _, filled = validate_frame(raw, st["time_col"], targets + past + known, st["freq"], fill_na,
                                      name, allow_trailing_na=targets + past, fill_gaps=fill_gaps)
    report_filled(name, filled, fill_na, fill_gaps)
    observed = np.flatnonzero(~np.isnan(frame[targets].to_numpy()).any(1))
    n_hist = int(observed[-1]) + 1 if len(observed) else 0
    return frame, n_hist


def forecast_frame(model, frame, n_hist):
    """Forecast the H steps after row n_hist - 1 of a validated frame: DataFrame(time, target, target_pXX...)."""
    st = model.data_state
    L, H, freq = st["lookback"], st["horizon"], st["freq"]
    need = st.get("min_history", L)
    if n_hist < need:
        raise UserError(f"the history has {n_hist} rows with a target value; the model reads the last {L} "
                        f"(lookback{' plus target lags' if need > L else ''}), so give at least {need} rows")
    future = frame.iloc[n_hist:n_hist + H]
    if st["known"] and len(future) < H:
        raise UserError(f"the model needs the known-in-future covariates {st['known']} for the {H} steps to "
                        f"forecast: add {H} rows after the last {st['targets'][0]} value, with the target empty "
                        f"(found {len(future)})")
    times = pd.date_range(frame.index[n_hist - 1], periods=H + 1, freq=freq)[1:]
    start = n_hist - need  # lag features of the lookback read further back than L
    window = frame.iloc[start:n_hist].reindex(frame.index[start:n_hist].append(times))
    if st["known"]:
        window.loc[times, st["known"]] = future[st["known"]].to_numpy()
    window = window.fillna(0.0)  # the horizon's targets and past-only covariates are unknown and never read
    y, past, known = (torch.from_numpy(a[-(L + H):])[None] for a in build_features(window, st))
    pred = model.forecast(y, past, known)[0]  # [H, n_t, Q]
    qs = model.quantiles
    out = pd.DataFrame({"time": times})
    for j, name in enumerate(st["targets"]):
        out[name] = pred[:, j, model.mid]
        for k, q in enumerate(qs or []):
            if q != 0.5:
                out[f"{name}_p{round(100 * q)}"] = pred[:, j, k]
    return out, pred


def predict(model, cfg):
    if not cfg.get("csv"):
        raise UserError("give csv=PATH: recent history with the training columns (at least lookback rows)")
    st = model.data_state
    data = cfg.get("data") or {}
    try:
        frame, n_hist = read_recent(cfg.csv, st, data.get("fill_na"), data.get("fill_gaps"))
    except DataError as e:
        raise UserError(str(e)) from None
    out, pred = forecast_frame(model, frame, n_hist)
    path = output_path(cfg.get("out"), "forecast.csv")
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False)
    png = path.with_suffix(".png")
    plot_prediction(frame.iloc[:n_hist], out, pred, model.quantiles, st, png)
    print(out.to_string(index=False, float_format=lambda v: f"{v:.4f}", max_rows=12))
    print(f"forecast of the next {len(out)} steps: {path}\nplot: {png}")
    return out


def forecast(model, df, fill_na=None, fill_gaps=None):
    """The Python API's answer (`rnnsuite.load(ckpt).forecast(df)`): the table rnn-predict writes for csv=, from
    a DataFrame with the training columns (the same checks; `fill_na` / `fill_gaps` as data.fill_na / fill_gaps)."""
    try:
        frame, n_hist = recent_frame(df, model.data_state, fill_na, fill_gaps)
    except DataError as e:
        raise UserError(str(e)) from None
    return forecast_frame(model, frame, n_hist)[0]


def plot_prediction(history, out, pred, quantiles, st, png):
    from rnnsuite.plots import figure, save_figure

    from .plots import draw_forecast
    name = st["targets"][0]
    show = history.iloc[-min(len(history), 2 * st["horizon"]):]
    fig, ax = figure(figsize=(10, 3.5))
    draw_forecast(ax, show.index, show[name].to_numpy(), out["time"], pred[:, 0], quantiles)
    ax.set_title(f"{name}: forecast of the next {len(out)} steps")
    ax.legend(fontsize=8, loc="upper left")
    save_figure(fig, png)


def example_csv(path, history_days=20, future_days=2):
    """Recent history in the schema of elecdemand and of the fixture (time, Demand, Temperature, WorkDay), then
    `future_days` of rows with the known covariates and an empty target: the contract test's input."""
    from .data import synthetic_series
    per_day = 48
    df = synthetic_series(history_days + future_days, per_day, seed=3, start="2024-03-01")
    df["Demand"] = df["Demand"].astype(object)
    df.iloc[history_days * per_day:, df.columns.get_loc("Demand")] = ""
    df.to_csv(path, index=False)
    return path
