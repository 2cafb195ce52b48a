"""Forecasting on generated series with known structure: the CSV path and its bad-input cases, windows that
do not leak across splits, metrics by hand, the three model styles, and a real train + predict run."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from rnnsuite.data import DataError
from rnnsuite.tasks.forecasting.data import ForecastDataModule, forecast_metrics, synthetic_series
from rnnsuite.tasks.forecasting.model import Forecaster

from ..conftest import FAST, compose, run_cli

# with pytest-xdist (--dist loadgroup): one worker takes this file and the contract's forecasting tests, so they
# share the session's fixture runs of forecasting
pytestmark = pytest.mark.xdist_group("forecasting")

CELL = {"type": "lstm", "backend": "fused", "init": "default", "nonlinearity": "tanh"}


def csv_dm(path, **kw):
    args = dict(source="csv", path=str(path), time_col="time", target="Demand",
                covariates=["Temperature", "WorkDay"], known=["WorkDay"], freq="30min", lookback=96, horizon=24,
                train_stride=6, eval_stride=24, seasons={"day": 48})
    args.update(kw)
    return ForecastDataModule(**args)


@pytest.fixture
def series_csv(tmp_path):
    path = tmp_path / "series.csv"
    synthetic_series(n_days=30).to_csv(path, index=False)
    return path


def edited(tmp_path, change):
    """A copy of a generated series with one edit applied to its DataFrame (as strings, like a CSV)."""
    df = synthetic_series(n_days=30).astype(str)
    df = change(df)
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ bad input on the CSV path
def test_missing_column_is_named(tmp_path):
    path = edited(tmp_path, lambda d: d.drop(columns=["Temperature"]))
    with pytest.raises(DataError, match="column 'Temperature' is missing"):
        csv_dm(path).setup()


def test_non_numeric_value_names_the_line(tmp_path):
    def change(d):
        d.loc[17, "Temperature"] = "warm"
        return d
    with pytest.raises(DataError, match=r"bad\.csv line 19: column 'Temperature' has 'warm'"):
        csv_dm(edited(tmp_path, change)).setup()


def test_duplicate_timestamp(tmp_path):
    def change(d):
        d.loc[10, "time"] = d.loc[9, "time"]
        return d
    with pytest.raises(DataError, match="line 12: duplicate timestamp"):
        csv_dm(edited(tmp_path, change)).setup()


def test_non_monotonic_timestamps(tmp_path):
    def change(d):
        d.loc[[20, 21], "time"] = d.loc[[21, 20], "time"].to_numpy()
        return d
    with pytest.raises(DataError, match="line 23: .*comes before"):
        csv_dm(edited(tmp_path, change)).setup()


def test_gap_in_time_index(tmp_path):
    path = edited(tmp_path, lambda d: d.drop(index=[100, 101]))
    with pytest.raises(DataError, match="line 102: gap in the time index.*every 30 minutes.*data.fill_gaps"):
        csv_dm(path).setup()


def test_fill_gaps_adds_the_missing_steps_and_says_how_many(tmp_path, capsys):
    """data.fill_gaps: the index is completed at its frequency and the added steps filled (interpolated: between
    their neighbours; forward-filled: the last value before the gap); a timestamp off the grid stays an error."""
    whole = synthetic_series(n_days=30)
    path = edited(tmp_path, lambda d: d.drop(index=[100, 101, 102]))
    dm = csv_dm(path, fill_gaps="interpolate")
    dm.setup()
    assert dm.filled == {"gaps": 3} and "added 3 missing time step(s)" in capsys.readouterr().err
    assert len(dm.frame) == len(whole) and (dm.frame.index == pd.DatetimeIndex(whole["time"])).all()
    d = dm.frame["Demand"].to_numpy()
    assert d[101] == pytest.approx(d[99] + (d[103] - d[99]) / 2)  # a straight line across the gap
    assert dm.frame["Demand"].drop(dm.frame.index[[100, 101, 102]]).to_numpy() == pytest.approx(
        np.delete(whole["Demand"].to_numpy(), [100, 101, 102]))
    ffill = csv_dm(path, fill_gaps="ffill")
    ffill.setup()
    assert (ffill.frame["Temperature"].to_numpy()[100:103] == whole["Temperature"][99]).all()

    def off_grid(d):
        d.loc[100, "time"] = str(pd.Timestamp(d.loc[100, "time"]) + pd.Timedelta("10min"))
        return d.drop(index=[101])
    with pytest.raises(DataError, match="line 102: gap in the time index.*every 30 minutes.*off that grid"):
        csv_dm(edited(tmp_path, off_grid), fill_gaps="interpolate").setup()


def test_infinite_values_are_missing_values(tmp_path, capsys):
    def change(d):
        d.loc[40, "Demand"], d.loc[41, "Demand"], d.loc[60, "Temperature"] = "inf", "-inf", "Infinity"
        return d
    path = edited(tmp_path, change)
    with pytest.raises(DataError, match="line 42: column 'Demand' has 2 missing or infinite value"):
        csv_dm(path).setup()
    dm = csv_dm(path, fill_na="ffill")
    dm.setup()
    assert dm.filled == {"Demand": 2, "Temperature": 1} and np.isfinite(dm.frame.to_numpy()).all()
    assert dm.frame["Demand"].iloc[40] == dm.frame["Demand"].iloc[39] == dm.frame["Demand"].iloc[41]


def test_nan_refused_unless_config_fills_it_and_count_reported(tmp_path, capsys):
    def change(d):
        d.loc[[30, 31, 32], "Demand"] = ""
        d.loc[50, "Temperature"] = "NaN"
        return d
    path = edited(tmp_path, change)
    with pytest.raises(DataError, match="line 32: column 'Demand' has 3 missing or infinite value.*data.fill_na"):
        csv_dm(path).setup()
    dm = csv_dm(path, fill_na="interpolate")
    dm.setup()
    assert dm.filled == {"Demand": 3, "Temperature": 1}
    assert "filled 3 missing or infinite value(s) in 'Demand'" in capsys.readouterr().err
    assert not dm.frame.isna().any().any()
    # interpolation: the filled values lie between their neighbours
    d = dm.frame["Demand"].to_numpy()
    assert min(d[29], d[33]) <= d[31] <= max(d[29], d[33])


def test_history_shorter_than_lookback(tmp_path):
    path = edited(tmp_path, lambda d: d.head(100))
    with pytest.raises(DataError, match="too short for lookback 96"):
        csv_dm(path).setup()


def test_known_covariate_must_be_a_covariate(series_csv):
    with pytest.raises(DataError, match="data.known"):
        csv_dm(series_csv, known=["Humidity"])


# ------------------------------------------------------------------ windows, scaling, metrics, baselines
def test_windows_do_not_leak_across_splits(series_csv):
    dm = csv_dm(series_csv)
    dm.setup()
    L, H = dm.L, dm.H
    spans = {k: (s + L, s + L + H) for k, s in dm.starts.items()}  # forecast steps [from, to)
    assert spans["train"][1].max() <= dm.b1 <= spans["val"][0].min()
    assert spans["val"][1].max() <= dm.b2 <= spans["test"][0].min()
    assert spans["test"][1].max() <= len(dm.frame)
    # the scaler saw train rows only
    mu, sd = dm.state()["scaler"]["Demand"]
    assert mu == pytest.approx(dm.frame["Demand"].iloc[:dm.b1].mean())
    assert mu != pytest.approx(dm.frame["Demand"].mean(), abs=1e-9)
    # a test window's target is the raw series in original units
    item = dm.datasets["test"][0]
    o = item["origin"]
    assert np.allclose(item["target"].numpy()[:, 0], dm.frame["Demand"].to_numpy()[o:o + H], atol=1e-5)


def test_mase_and_metrics_by_hand():
    actual = np.array([[[10.0], [20.0]], [[30.0], [40.0]]])  # 2 windows, H = 2
    pred = np.array([[[12.0], [18.0]], [[33.0], [40.0]]])
    # train series 1, 3, 2, 6 with season 2: |2-1|, |6-3| -> scale 2
    from rnnsuite.metrics import seasonal_naive_scale
    scale = seasonal_naive_scale([1, 3, 2, 6], 2)
    assert scale == 2.0
    overall, per_step = forecast_metrics(actual, pred, [scale])
    assert overall["mae"] == pytest.approx((2 + 2 + 3 + 0) / 4)
    assert overall["mase"] == pytest.approx(1.75 / 2)
    assert overall["mape"] == pytest.approx(100 * (0.2 + 0.1 + 0.1 + 0) / 4)
    assert overall["rmse"] == pytest.approx(np.sqrt((4 + 4 + 9 + 0) / 4))
    assert per_step["mae"] == pytest.approx([2.5, 1.0])
    assert per_step["mase"] == pytest.approx([1.25, 0.5])


def test_seasonal_naive_is_exact_on_a_periodic_series(tmp_path):
    t = pd.date_range("2024-01-01", periods=48 * 30, freq="30min")
    df = pd.DataFrame({"time": t, "Demand": 5 + np.sin(2 * np.pi * np.arange(len(t)) / 48)})
    path = tmp_path / "periodic.csv"
    df.to_csv(path, index=False)
    dm = csv_dm(path, covariates=[], known=[])
    dm.setup()
    base = dm.baselines()
    assert base["seasonal_naive_day"]["mae"] == pytest.approx(0, abs=1e-9)
    assert base["naive"]["mae"] > 0.1
    assert len(base["seasonal_naive_day"]["per_horizon"]["mape"]) == dm.H


# ------------------------------------------------------------------ the three styles
@pytest.mark.parametrize("style", ["synced", "direct", "encdec"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_styles_forecast_without_peeking(style, cell):
    torch.manual_seed(0)
    L, H, B = 12, 5, 3
    m = Forecaster(n_targets=2, n_past=1, n_known=3, lookback=L, horizon=H, cell={**CELL, "type": cell},
                   style=style, hidden_size=8, num_layers=2)
    m.eval()
    y, past, known = torch.randn(B, L + H, 2), torch.randn(B, L + H, 1), torch.randn(B, L + H, 3)
    out = m(y, past, known)
    assert out.shape == (B, H, 2, 3)
    # the future targets and past-only covariates must not change a forecast; known covariates must
    y2, past2 = y.clone(), past.clone()
    y2[:, L:] += 100
    past2[:, L:] -= 100
    assert torch.allclose(m(y2, past2, known), out)
    known2 = known.clone()
    known2[:, L:] += 1
    assert not torch.allclose(m(y, past, known2), out)
    # a training step gives a finite loss with gradients
    m.train()
    loss = m._loss(m.synced_train_outputs(y, past, known), y[:, 1:]) if style == "synced" else \
        m._loss(m(y, past, known, teacher_forcing=0.5), y[:, L:])
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in m.parameters() if p.requires_grad)


def test_point_forecast_and_bad_quantiles():
    m = Forecaster(1, 0, 2, 8, 4, CELL, style="direct", quantiles=None, loss="mse", hidden_size=8)
    assert m(torch.randn(2, 12, 1), torch.zeros(2, 12, 0), torch.randn(2, 12, 2)).shape == (2, 4, 1, 1)
    with pytest.raises(ValueError, match="0.5"):
        Forecaster(1, 0, 2, 8, 4, CELL, quantiles=[0.1, 0.9])
    with pytest.raises(ValueError, match="style"):
        Forecaster(1, 0, 2, 8, 4, CELL, style="transformer")


def test_experiment_configs_compose(tmp_path):
    from rnnsuite.config import conf_options
    names = [n for n in conf_options("experiment") if n.startswith("forecasting_")]
    assert names
    for name in names:
        cfg = compose(overrides=[f"experiment={name}"], output_dir=tmp_path)
        assert cfg.task.name == "forecasting" and cfg.model.style in ("synced", "direct", "encdec")


# ------------------------------------------------------------------ end to end: train on a CSV, then predict
def test_train_and_predict_on_csv(tmp_path, data_dir, predict_here):
    df = synthetic_series(n_days=40)
    path = tmp_path / "series.csv"
    df.to_csv(path, index=False)
    run = tmp_path / "run"
    r = run_cli("rnn-train", "task=forecasting", "data=csv", f"data.path={path}", "data.target=Demand",
                "data.covariates=[Temperature,WorkDay]", "data.known=[WorkDay,Temperature]", "data.freq=30min",
                "data.lookback=96", "data.horizon=24", "data.train_stride=6", "data.eval_stride=24",
                "data.seasons={day:48}", "model.style=encdec", "model.hidden_size=24", "cell=gru",
                "trainer.max_epochs=4", "optim.lr=0.01", f"paths.output_dir={run}", *FAST)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((run / "results.json").read_text())
    assert {"naive", "seasonal_naive_day", "linear_lags"} <= set(res["baselines"])
    assert res["test"]["mape"] < res["baselines"]["naive"]["mape"]  # it learned the daily cycle
    assert 0 <= res["test"]["coverage"] <= 1
    assert len(res["per_horizon"]["mape"]) == 24
    for key in ("forecast", "per_horizon"):
        assert (run / res["images"][key]).is_file() if not res["images"][key].startswith("/") \
            else __import__("os").path.isfile(res["images"][key])
    ckpt = run / "checkpoints" / "best.ckpt"

    # recent history of 100 rows + 24 future rows with the known covariates and an empty target
    recent = df.iloc[-124:].copy()
    recent["Demand"] = recent["Demand"].astype(object)
    recent.iloc[100:, recent.columns.get_loc("Demand")] = ""
    recent_csv = tmp_path / "recent.csv"
    recent.to_csv(recent_csv, index=False)
    out = tmp_path / "fc.csv"
    code, _, err = predict_here("task=forecasting", f"ckpt={ckpt}", f"csv={recent_csv}", f"out={out}")
    assert code == 0, err
    fc = pd.read_csv(out, parse_dates=["time"])
    assert list(fc.columns) == ["time", "Demand", "Demand_p10", "Demand_p90"]
    assert len(fc) == 24 and (fc["time"] == pd.to_datetime(df["time"].iloc[-24:]).to_numpy()).all()
    assert (fc["Demand_p10"] <= fc["Demand_p90"]).all()
    assert out.with_suffix(".png").is_file()
    truth = df["Demand"].iloc[-24:].to_numpy()
    assert np.mean(np.abs(fc["Demand"] - truth) / truth) < 0.25

    # bad prediction inputs: one line, exit code 2
    short = tmp_path / "short.csv"
    recent.iloc[40:].to_csv(short, index=False)
    code, _, err = predict_here("task=forecasting", f"ckpt={ckpt}", f"csv={short}", f"out={out}")
    assert code == 2 and "at least 96 rows" in err
    no_future = tmp_path / "nofuture.csv"
    df.iloc[-100:].to_csv(no_future, index=False)
    code, _, err = predict_here("task=forecasting", f"ckpt={ckpt}", f"csv={no_future}", f"out={out}")
    assert code == 2 and "known-in-future" in err
    bad = tmp_path / "badval.csv"
    b = recent.astype(str)
    b.iloc[5, b.columns.get_loc("Temperature")] = "n/a?"
    b.to_csv(bad, index=False)
    code, _, err = predict_here("task=forecasting", f"ckpt={ckpt}", f"csv={bad}", f"out={out}")
    assert code == 2 and "badval.csv line 7: column 'Temperature'" in err


def test_csv_source_needs_path_and_target(series_csv):
    with pytest.raises(DataError, match="data.path"):
        ForecastDataModule(source="csv", path=None, target="Demand").setup()
    with pytest.raises(DataError, match="data.target"):
        ForecastDataModule(source="csv", path=str(series_csv), target=None).setup()
    with pytest.raises(DataError, match="CSV file not found"):
        ForecastDataModule(source="csv", path="/nonexistent/x.csv", target="Demand").setup()


def test_several_target_series_are_forecast_together(tmp_path):
    df = synthetic_series(n_days=30)
    df["Demand2"] = 2 * df["Demand"] + 1
    path = tmp_path / "two.csv"
    df.to_csv(path, index=False)
    dm = csv_dm(path, target=["Demand", "Demand2"])
    dm.setup()
    assert dm.model_dims()["n_targets"] == 2
    base = dm.baselines()
    assert set(base["seasonal_naive_day"]) >= {"mae", "mape", "mase"}
    assert dm.datasets["test"][0]["target"].shape == (24, 2)


def test_conformal_pad_restores_nominal_coverage():
    m = Forecaster(1, 0, 2, 8, 4, CELL, quantiles=[0.1, 0.5, 0.9], hidden_size=8)
    rng = np.random.default_rng(0)
    actual = rng.normal(0, 1, (500, 4, 1))
    pred = np.stack([np.full_like(actual, -0.3), np.zeros_like(actual), np.full_like(actual, 0.3)], -1)
    cover = lambda p, a: np.mean((a >= p[..., 0]) & (a <= p[..., -1]))  # noqa: E731
    assert cover(pred, actual) < 0.3  # a band far too narrow
    m.fit_band_pad(pred, actual)
    fresh = rng.normal(0, 1, (500, 4, 1))
    assert 0.76 < cover(m.calibrate(pred), fresh) < 0.84  # about 80% on new data from the same distribution
    assert (m.calibrate(pred)[..., 1] == 0).all()  # the median is untouched


def shifted_errors(rng, n, scale):
    """n forecasts of 8 steps, one target, with a fixed band [-0.3, 0.3] around 0 and actuals N(0, scale)."""
    actual = rng.normal(0, scale, (n, 8, 1))
    pred = np.broadcast_to(np.array([-0.3, 0.0, 0.3]), (n, 8, 1, 3)).copy()
    return pred, actual


def test_online_band_recovers_coverage_after_a_shift_that_the_split_pad_misses():
    """Calibrated on errors of scale 1, tested where they have doubled: the val pad alone covers about 45%
    (P(|N(0,2)| < 1.28) = 0.52, less before the pad's slack), ACI comes back to about 80% within the test period."""
    from rnnsuite.tasks.forecasting.model import band_scores, online_band
    m = Forecaster(1, 0, 2, 8, 8, CELL, quantiles=[0.1, 0.5, 0.9], hidden_size=8)
    rng = np.random.default_rng(0)
    vp, va = shifted_errors(rng, 200, 1.0)
    tp, ta = shifted_errors(rng, 400, 2.0)
    m.fit_band_pad(vp, va)
    cover = lambda p, a: np.mean((a >= p[..., 0]) & (a <= p[..., -1]))  # noqa: E731
    assert cover(m.calibrate(tp), ta) < 0.6
    online = online_band(tp, ta, band_scores(vp, va).reshape(-1, 1), 0.8, 0.005)
    assert 0.76 < cover(online, ta) < 0.84
    assert 0.77 < cover(online[200:], ta[200:]) < 0.83  # settled, not only right on average
    np.testing.assert_array_equal(online[..., 1], tp[..., 1])  # the median is untouched


@pytest.mark.parametrize("delay", [1, 3])
def test_online_band_uses_only_forecasts_already_observed(delay):
    """Forecast d's band may depend on the actuals of forecasts up to d - delay and on nothing later."""
    from rnnsuite.tasks.forecasting.model import online_band
    rng = np.random.default_rng(1)
    pred, actual = shifted_errors(rng, 30, 1.0)
    cal = rng.normal(0, 1, (64, 1))
    base = online_band(pred, actual, cal, 0.8, 0.05, delay)
    k = 10
    moved = actual.copy()
    moved[k] += 5.0  # forecast k misses badly
    after = online_band(pred, moved, cal, 0.8, 0.05, delay)
    np.testing.assert_array_equal(after[:k + delay], base[:k + delay])
    assert (after[k + delay, ..., 2] > base[k + delay, ..., 2]).all()  # widened as soon as k is observed


# ------------------------------------------------------------------ the ridge inside the model
def test_model_ridge_matches_the_baseline_and_residual_starts_there(series_csv):
    """The model's ridge (buffers from the DataModule's fit) forecasts the test windows exactly as the
    `linear_lags` baseline does; with residual=ridge an untrained model's median is that forecast."""
    dm = csv_dm(series_csv)
    dm.setup()
    dims = dm.model_dims()
    m = Forecaster(**dims, cell=CELL, hidden_size=8, residual="ridge")
    m.set_data_state(dm.state())
    m.eval()
    batch = next(iter(dm.test_dataloader()))
    with torch.no_grad():
        pred = m.unscale(m(batch["y"], batch["past"], batch["known"]))
    expected = dm.linear_forecast()[: len(batch["y"])]
    np.testing.assert_allclose(pred[..., m.mid].numpy(), expected, rtol=1e-4, atol=1e-4)
    # the median of an untrained residual model is the ridge forecast; the other quantiles are too
    np.testing.assert_allclose(pred[..., 0].numpy(), expected, rtol=1e-4, atol=1e-4)
    # saved and loaded: the buffers come back from the state dict, not from a new fit
    sd = m.state_dict()
    m2 = Forecaster(**{**dims, "ridge": None}, cell=CELL, hidden_size=8, residual="ridge")
    assert not torch.equal(m2.ridge_w, sd["ridge_w"])
    m2.load_state_dict(sd)
    assert torch.equal(m2.ridge_w, sd["ridge_w"])
    with pytest.raises(ValueError, match="style=direct"):
        Forecaster(**dims, cell=CELL, style="synced", residual="ridge")


def test_rows_keeps_a_part_of_the_series_like_a_cut_csv(series_csv, tmp_path):
    """data.rows=[-K, null] is the same data as a CSV holding only the last K rows: the same split, windows,
    scaler and baselines."""
    cut = tmp_path / "cut.csv"
    pd.read_csv(series_csv).iloc[-1000:].to_csv(cut, index=False)
    a, b = csv_dm(series_csv, rows=[-1000, None]), csv_dm(cut)
    a.setup()
    b.setup()
    assert a.state() == b.state()
    for k in ("train", "val", "test"):
        np.testing.assert_array_equal(a.starts[k], b.starts[k])
    for name, f in a.baseline_forecasts().items():
        np.testing.assert_allclose(f, b.baseline_forecasts()[name], err_msg=name)
    with pytest.raises(DataError, match=r"data.rows=\[5\]"):
        csv_dm(series_csv, rows=[5])


def test_short_series_trains_on_windows_closer_together(series_csv, capsys):
    """data.min_train_windows: the stride falls (never rises) until there are that many training windows, down
    to a window at every step; the val and test windows do not move."""
    full = csv_dm(series_csv)
    full.setup()
    every = full.starts["train_all"]  # a window at every step
    for want, stride in ((1, 6), (len(every) // 3, 3), (10 ** 9, 1)):
        dm = csv_dm(series_csv, min_train_windows=want)
        dm.setup()
        np.testing.assert_array_equal(dm.starts["train"], every[::stride])
        np.testing.assert_array_equal(dm.starts["test"], full.starts["test"])
    assert "a training window every 1 step(s), not every 6" in capsys.readouterr().out


def test_blend_weight_follows_validation():
    """w = 0 when a baseline is exact and the network is off, 1 in the opposite case, between when each errs
    in the other direction; the baseline chosen is the one validation favours."""
    m = Forecaster(1, 0, 2, 8, 4, CELL, blend=True, hidden_size=8, seasons={"day": 4, "week": 8})
    assert m.partners == ["linear_lags", "seasonal_naive_day", "seasonal_naive_week"]
    actual = np.full((10, 4, 1), 5.0)
    off, far = actual + 1.0, actual + 3.0
    m.fit_blend(off, np.stack([actual, far, far], -1), actual)
    assert (float(m.blend_w), int(m.blend_with)) == (0.0, 0)
    m.fit_blend(off, np.stack([far, far, actual], -1), actual)  # only the weekly naive is exact
    assert (float(m.blend_w), int(m.blend_with)) == (0.0, 2)
    m.fit_blend(actual, np.stack([off, off, off], -1), actual)
    assert float(m.blend_w) == 1.0
    m.fit_blend(actual + 1.0, np.stack([far, actual - 1.0, far], -1), actual)  # opposite errors of one size
    assert (float(m.blend_w), int(m.blend_with)) == (pytest.approx(0.5), 1)
    pred = np.stack([actual + 1.0] * 3, -1)  # [N, H, n_t, Q]
    np.testing.assert_allclose(m.blended(pred, np.stack([far, actual - 1.0, far], -1)), np.stack([actual] * 3, -1))


def test_blend_partners_are_the_baselines_of_the_same_windows(series_csv):
    """The model's own seasonal naive and ridge forecasts, built from a batch, equal the DataModule's
    baselines on the test windows (computed from the raw series)."""
    dm = csv_dm(series_csv, seasons={"day": 48, "half_day": 24, "hour": 2})
    dm.setup()
    m = Forecaster(**dm.model_dims(), cell=CELL, hidden_size=8, blend=True)
    m.set_data_state(dm.state())
    batch = next(iter(dm.test_dataloader()))
    got = m.unscale_partners(m.partner_forecasts(batch["y"], batch["past"], batch["known"])).numpy()
    base = dm.baseline_forecasts()
    n = len(batch["y"])
    for p, name in enumerate(m.partners):
        np.testing.assert_allclose(got[..., p], base[name][:n], rtol=1e-4, atol=1e-4, err_msg=name)


def test_mape_network_is_the_network_alone_in_a_blended_run(fixture_data_dir, tmp_path):
    """The blend changes the forecast, not the training: a blended run logs as val/mape_network the same val
    MAPE per epoch as the same seed's run without the blend, while its own val/mape (blended) differs from it
    wherever the blend gave the baseline some weight."""
    from ..conftest import train_on_fixture
    runs = {}
    for blend in ("true", "false"):
        run = tmp_path / blend
        r = train_on_fixture("forecasting", run, f"model.blend={blend}", "trainer.max_epochs=3", "seed=5",
                             data_dir=fixture_data_dir)
        assert r.returncode == 0, r.stderr[-3000:]
        runs[blend] = pd.read_csv(run / "csv" / "metrics.csv").dropna(subset=["val/mape"])
    assert len(runs["false"]) == 3
    np.testing.assert_allclose(runs["true"]["val/mape_network"], runs["false"]["val/mape"], rtol=1e-5)
    # the check has teeth only where the blend moved the forecast off the network's (w < 1)
    moved = runs["true"]["val/blend_w"].to_numpy() < 1
    assert moved.any()
    assert not np.allclose(runs["true"]["val/mape"][moved], runs["false"]["val/mape"][moved], rtol=1e-5)


def test_interval_score_by_hand():
    from rnnsuite.tasks.forecasting.model import interval_score
    # widths 2 and 2; the second point is 1 above its band: (2 + 2 + 2 / 0.2 * 1) / 2 = 7
    assert interval_score([0, 0], [2, 2], [1, 3], 0.2) == pytest.approx(7.0)


def test_calibration_script_default_method_matches_the_task_coverage(fixture_run, fixture_data_dir, tmp_path,
                                                                      monkeypatch):
    """scripts/forecast_calibration.py re-derives the task's own split-conformal band from a checkpoint: its
    default method's test coverage must be the coverage the run reported, and its online methods must run."""
    import importlib.util
    from pathlib import Path
    run = fixture_run("forecasting")
    monkeypatch.setenv("RNNSUITE_DATA_DIR", str(fixture_data_dir))
    path = Path(__file__).resolve().parents[2] / "scripts" / "forecast_calibration.py"
    spec = importlib.util.spec_from_file_location("forecast_calibration", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "cal.json"
    monkeypatch.setattr("sys.argv", ["forecast_calibration.py", str(run / "checkpoints" / "best.ckpt"),
                                     "--json", str(out)])
    script.main()
    methods = json.loads(out.read_text())["methods"]
    reported = json.loads((run / "results.json").read_text())["test"]
    default = methods["ACI, gamma 0.005 per point (the default, model.calibrate=online)"]
    assert default["test_coverage"] == pytest.approx(reported["coverage"], abs=1e-6)
    assert default["test_interval_score"] == pytest.approx(reported["interval_score"], rel=1e-5)
    split = methods["split conformal, one pad (model.calibrate=split)"]
    assert split["test_coverage"] == pytest.approx(reported["coverage_split"], abs=1e-6)
    assert all(np.isfinite(m["test_coverage"]) for m in methods.values())


def test_test_metrics_do_not_depend_on_the_order_forecasts_arrive_in(series_csv, monkeypatch):
    """Under DDP the gathered test forecasts come rank by rank (0, 2, 4, .., 1, 3, ..), not in time order, and
    online calibration reads them as a time series: a run that receives them shuffled must report what a run that
    receives them in order reports."""
    import pytorch_lightning as pl
    from torch.utils.data import DataLoader
    dm = csv_dm(series_csv)
    dm.setup()
    pl.seed_everything(0)
    m = Forecaster(**dm.model_dims(), cell=CELL, hidden_size=8, blend=True, band_gamma=0.05)
    m.set_data_state(dm.state())
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=3, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(m, dm)  # fits the blend, the val pad and the val scores online calibration starts from
    in_order = trainer.test(m, dm, verbose=False)[0]
    ordered = m.test_result
    n = len(dm.datasets["test"])
    assert n >= 6
    shuffled = list(np.random.default_rng(0).permutation(n))
    loader = DataLoader(dm.datasets["test"], batch_size=3, sampler=shuffled, collate_fn=dm.loader("test").collate_fn)
    monkeypatch.setattr(dm, "test_dataloader", lambda: loader)
    assert trainer.test(m, dm, verbose=False)[0] == pytest.approx(in_order, rel=1e-6)
    np.testing.assert_allclose(m.test_result["pred"], ordered["pred"], rtol=1e-6)
    np.testing.assert_array_equal(m.test_result["actual"], ordered["actual"])
