"""Forecasting at every common step: generated series from one minute to one month run through rnn-train, rnn-eval
and rnn-predict (in this process), the defaults that follow the step, the messages that name it, and the docs'
own-series command (docs/tasks/forecasting.md) on an hourly CSV with gaps and missing values."""
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnsuite.data import DataError
from rnnsuite.tasks.forecasting.data import ForecastDataModule, generated_series
from rnnsuite.tasks.forecasting.frequency import frequency_defaults

from ..conftest import FAST, compose

# its own group: one worker runs the whole file (the matrix is a module fixture), apart from test_forecasting.py
pytestmark = pytest.mark.xdist_group("forecasting_freq")

FREQS = ["1min", "5min", "15min", "30min", "1h", "3h", "D", "1D", "B", "W", "MS", "ME"]
# each step's expected defaults, written out by hand (seasons, lookback, horizon): the table of
# docs/tasks/forecasting.md, *What follows the step*
DEFAULTS = {
    "1min": ({"hour": 60, "day": 1440}, 1440, 60),
    "5min": ({"hour": 12, "day": 288}, 288, 12),
    "15min": ({"day": 96, "week": 672}, 672, 96),
    "30min": ({"day": 48, "week": 336}, 336, 48),
    "1h": ({"day": 24, "week": 168}, 168, 24),
    "3h": ({"day": 8, "week": 56}, 56, 8),
    "D": ({"week": 7, "year": 364}, 56, 14),
    "1D": ({"week": 7, "year": 364}, 56, 14),
    "B": ({"week": 5, "year": 260}, 40, 10),
    "W": ({"year": 52}, 104, 13),
    "MS": ({"year": 12}, 36, 12),
    "ME": ({"year": 12}, 36, 12),
}
# what one step is, independently of pandas' offsets: the first few timestamps of a series at that step
FIRST = {"1h": ["2000-01-01 00:00", "2000-01-01 01:00"], "B": ["2000-01-03", "2000-01-04"],
         "W": ["2000-01-02", "2000-01-09"], "MS": ["2000-01-01", "2000-02-01"], "ME": ["2000-01-31", "2000-02-29"]}
TINY = ["model.hidden_size=4", "model.head_hidden=4", "trainer.max_epochs=1", "trainer.limit_train_batches=2",
        "data.batch_size=16", "data.min_train_windows=null", "num_examples=1"]


def rows_for(freq):
    """Enough rows for the step's default lookback and horizon, with a few training windows and test forecasts."""
    d = frequency_defaults(freq)
    return int((d["lookback"] + d["horizon"] + 24) / 0.7) + 2 * d["horizon"]


def test_the_defaults_table():
    assert {f: (d := frequency_defaults(f))["seasons"] and (d["seasons"], d["lookback"], d["horizon"])
            for f in FREQS} == DEFAULTS


@pytest.mark.parametrize("freq", sorted(FIRST))
def test_generated_series_steps_as_written(freq):
    assert list(generated_series(freq, 2)["time"]) == [pd.Timestamp(t) for t in FIRST[freq]]


def dm_for(path, **kw):
    return ForecastDataModule(source="csv", path=str(path), target="Demand", **kw)


@pytest.mark.parametrize("freq", FREQS)
def test_inferred_equals_explicit_also_across_gaps(freq, tmp_path, capsys):
    """The step read from the timestamps is the one given by data.freq: the same windows and data state; with three
    rows cut out of the middle (no longer regular for pandas' own inference), the step is still found, and
    data.fill_gaps puts the rows back at exactly the generated timestamps."""
    df = generated_series(freq, rows_for(freq))
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    given, inferred = dm_for(path, freq=freq), dm_for(path)
    given.setup()
    inferred.setup()
    assert given.state() == inferred.state()
    for k in ("train", "val", "test"):
        np.testing.assert_array_equal(given.starts[k], inferred.starts[k])
    seasons, lookback, horizon = DEFAULTS[freq]
    assert (inferred.seasons, inferred.L, inferred.H) == (seasons, lookback, horizon)
    cut = tmp_path / "cut.csv"
    df.drop(index=[40, 41, 57]).to_csv(cut, index=False)
    with pytest.raises(DataError, match=r"cut\.csv line 42: gap in the time index.*expected one row every"):
        dm_for(cut).setup()
    filled = dm_for(cut, fill_gaps="interpolate")
    filled.setup()
    assert filled.filled == {"gaps": 3}
    assert (filled.frame.index == pd.DatetimeIndex(df["time"])).all()


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """One tiny rnn-train per step on a generated CSV (the step inferred), in this process; shared by the checks."""
    import os

    from rnnsuite.run import train
    root = tmp_path_factory.mktemp("freq_matrix")
    old = os.environ.get("RNNSUITE_DATA_DIR")
    os.environ["RNNSUITE_DATA_DIR"] = str(root / "data")
    runs = {}
    try:
        for freq in FREQS:
            d = frequency_defaults(freq)
            df = generated_series(freq, rows_for(freq) + d["horizon"], seed=1)
            series = df.iloc[:-d["horizon"]]
            path = root / f"{freq}.csv"
            series.to_csv(path, index=False)
            run = root / f"run_{freq}"
            cfg = compose("train", ["task=forecasting", "data=csv", f"data.path={path}", "data.target=Demand",
                                    *TINY, *FAST, f"paths.output_dir={run}"])
            train(cfg)
            runs[freq] = (run, df, path)
    finally:
        if old is None:
            os.environ.pop("RNNSUITE_DATA_DIR", None)
        else:
            os.environ["RNNSUITE_DATA_DIR"] = old
    return runs


@pytest.mark.parametrize("freq", FREQS)
def test_every_step_trains_evaluates_and_predicts(freq, matrix, tmp_path, predict_here, capsys):
    """rnn-train chose the step's defaults and scored every baseline; rnn-eval of its checkpoint reproduces its
    test metrics; rnn-predict forecasts the next H timestamps of the generated series."""
    from rnnsuite.run import evaluate
    run, df, path = matrix[freq]
    seasons, lookback, horizon = DEFAULTS[freq]
    res = json.loads((run / "results.json").read_text())
    assert len(res["per_horizon"]["mape"]) == horizon
    expect = {"naive", "linear_lags"} | {f"seasonal_naive_{k}" for k, m in seasons.items()
                                         if m <= len(df) * 0.85 - horizon}
    assert set(res["baselines"]) == expect
    assert all(np.isfinite(v) for v in res["test"].values())
    ckpt = run / "checkpoints" / "best.ckpt"
    overrides = ["task=forecasting", f"ckpt={ckpt}", f"paths.output_dir={tmp_path / 'eval'}"]
    test = evaluate(compose("eval", overrides), overrides)["test"]
    assert test == pytest.approx(res["test"], rel=1e-5, abs=1e-6)

    recent = tmp_path / "recent.csv"
    pd.read_csv(path).iloc[-lookback:].to_csv(recent, index=False)
    out = tmp_path / "fc.csv"
    code, _, err = predict_here("task=forecasting", f"ckpt={ckpt}", f"csv={recent}", f"out={out}")
    assert code == 0, err
    fc = pd.read_csv(out, parse_dates=["time"])
    assert list(fc["time"]) == list(df["time"].iloc[-horizon:])  # the next H steps of the generated series
    assert np.isfinite(fc["Demand"]).all() and (fc["Demand_p10"] <= fc["Demand_p90"]).all()


def test_hourly_seasons_baselines_and_windows_follow_data_freq_alone(tmp_path, capsys):
    """data=csv data.freq=1h and nothing else: seasons of 24 and 168 hours, a week in and a day out, and seasonal
    naive baselines and a MASE scale that repeat the series 24 and 168 steps back (computed here by hand)."""
    df = generated_series("1h", 24 * 7 * 8, seed=2)
    path = tmp_path / "hourly.csv"
    df.to_csv(path, index=False)
    cfg = compose("train", ["task=forecasting", "data=csv", f"data.path={path}", "data.target=Demand",
                            "data.freq=1h"])
    from hydra.utils import instantiate
    dm = instantiate(cfg.data, _convert_="all")
    dm.setup()
    said = capsys.readouterr().out
    assert "one row every 1 hour (data.freq)" in said
    assert "seasons day=24, week=168, lookback 168, horizon 24" in said and "(yours)" not in said
    assert (dm.L, dm.H, dm.eval_stride, dm.seasons) == (168, 24, 24, {"day": 24, "week": 168})
    y = df["Demand"].to_numpy()
    b2 = int(len(y) * 0.85)
    origins = np.arange(b2, len(y) - 24 + 1, 24)
    forecasts = dm.baseline_forecasts()
    for name, m in (("day", 24), ("week", 168)):
        by_hand = np.array([[y[o + h - m] for h in range(24)] for o in origins])
        np.testing.assert_allclose(forecasts[f"seasonal_naive_{name}"][..., 0], by_hand)
    b1 = int(len(y) * 0.7)  # the val windows, where every choice is made, get the same baselines
    val = np.arange(b1, b2 - 24 + 1, 24)
    np.testing.assert_allclose(dm.baseline_forecasts("val")["seasonal_naive_week"][..., 0],
                               np.array([[y[o + h - 168] for h in range(24)] for o in val]))
    train = y[: int(len(y) * 0.7)]
    assert dm.state()["mase_scale"][0] == pytest.approx(np.mean(np.abs(train[24:] - train[:-24])))
    # what the user sets wins, and is marked as theirs
    cfg = compose("train", ["task=forecasting", "data=csv", f"data.path={path}", "data.target=Demand",
                            "data.freq=1h", "data.lookback=48", "data.seasons={day:24}"])
    dm = instantiate(cfg.data, _convert_="all")
    dm.setup()
    assert (dm.L, dm.H, dm.seasons) == (48, 24, {"day": 24})
    assert "seasons day=24 (yours), lookback 48 (yours), horizon 24," in capsys.readouterr().out
    assert set(dm.baselines()) == {"naive", "seasonal_naive_day", "linear_lags"}


def test_messages_name_the_step_in_words(tmp_path):
    for freq, words in (("1h", "one row every 1 hour"), ("MS", r"one row every 1 month \(on its first day\)"),
                        ("W", r"one row every 1 week \(on Sundays\)")):
        df = generated_series(freq, 200)
        path = tmp_path / f"{freq}.csv"
        df.drop(index=[100]).to_csv(path, index=False)
        with pytest.raises(DataError, match=rf"line 102: gap .*expected {words}\); set data.fill_gaps"):
            dm_for(path).setup()
    # a step given shorter than the file's: said as such, not as a gap
    path = tmp_path / "hourly.csv"
    generated_series("1h", 400).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"line 3: .* is a shorter step than one row every 2 hours; set data.freq"):
        dm_for(path, freq="2h").setup()


def test_a_step_the_task_cannot_serve_is_one_error_saying_what_works(tmp_path):
    path = tmp_path / "s.csv"
    generated_series("D", 400).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"data.freq='SMS-15' is not a step .*; use fixed steps .* months MS / ME"):
        dm_for(path, freq="SMS").setup()
    with pytest.raises(DataError, match=r"data.freq='every hour' is not a frequency pandas knows; write e.g. 15min"):
        dm_for(path, freq="every hour").setup()
    yearly = tmp_path / "y.csv"
    generated_series("YS", 60).to_csv(yearly, index=False)
    with pytest.raises(DataError, match=r"one row every 1 year .* no calendar feature changes .*data.calendar=false"):
        dm_for(yearly).setup()
    dm = dm_for(yearly, calendar=False)  # what the message says works
    dm.setup()
    assert (dm.L, dm.H, dm.season) == (10, 5, 1) and dm.model_dims()["n_known"] == 0


def readme_command():
    """The own-series command of the forecasting page, docs/tasks/forecasting.md (its first `rnn-train ... data=csv`
    line)."""
    readme = (Path(__file__).resolve().parents[2] / "docs" / "tasks" / "forecasting.md").read_text()
    readme = re.sub(r"\\\n\s*", " ", readme)  # continued lines
    line = next(ln for ln in readme.splitlines() if ln.startswith("rnn-train") and "data=csv" in ln)
    return re.sub(r"\s+#.*", "", line).split()[1:]


def test_readme_own_series_command_on_an_hourly_csv_with_gaps_and_missing_values(tmp_path, data_dir, predict_here,
                                                                                 capsys):
    """A user's hourly file with missing hours and empty values: the docs' command plus only data.fill_gaps and
    data.fill_na (and this test's tiny budget) trains, says what it filled and chose, and forecasts the next day."""
    from rnnsuite.run import train
    overrides = readme_command()
    assert "data.path=my.csv" in overrides and "data.target=load" in overrides
    df = generated_series("1h", 24 * 7 * 6, seed=4).rename(columns={"Demand": "load"})[["time", "load"]]
    df["load"] = df["load"].astype(object)
    df.iloc[[30, 31, 500], 1] = ""  # missing values
    df = df.drop(index=[100, 101, 102, 700])  # missing hours
    path = tmp_path / "my.csv"
    df.to_csv(path, index=False)
    overrides = [o.replace("my.csv", str(path)) for o in overrides]
    run = tmp_path / "run"
    cfg = compose("train", [*overrides, "data.fill_gaps=interpolate", "data.fill_na=interpolate", *TINY, *FAST,
                            f"paths.output_dir={run}"])
    train(cfg)
    out = capsys.readouterr()
    assert "added 4 missing time step(s)" in out.err and "filled 3 missing or infinite value(s) in 'load'" in out.err
    assert "one row every 1 hour (inferred); following that step: seasons day=24, week=168" in out.out
    res = json.loads((run / "results.json").read_text())
    assert {"seasonal_naive_day", "seasonal_naive_week"} <= set(res["baselines"])
    recent = tmp_path / "recent.csv"
    df.iloc[-200:].to_csv(recent, index=False)
    code, _, err = predict_here("task=forecasting", f"ckpt={run / 'checkpoints' / 'best.ckpt'}", f"csv={recent}",
                                f"out={tmp_path / 'fc.csv'}", "data.fill_gaps=interpolate", "data.fill_na=interpolate")
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "fc.csv")) == 24


# ------------------------------------------------------------------ the public series of `rnn-reproduce own_series`
def test_public_series_fetch_as_user_csvs(data_dir):
    """Each fetch writes the CSV the user path reads, rows as published: counts, first rows and the gaps of the
    hourly weather (against the R documentation and a count made here from its timestamps)."""
    from rnnsuite.data import get_source
    first = {"ewr_weather": ("2013-01-01 06:00", "temp", 39.02), "us_births": ("1969-01-01", "births", 8486),
             "chicago_ridership": ("2001-01-22", "ridership", 15.732),
             "us_gasoline": ("1991-02-04", "barrels", 6.621)}  # ISO week 1991-W06 starts on Monday 4 February
    last = {"ewr_weather": "2013-12-30 23:00", "us_births": "1988-12-31", "chicago_ridership": "2016-08-28",
            "us_gasoline": "2017-01-16"}
    for name, (t0, col, v0) in first.items():
        src = get_source(name)
        raw = src.fetch()
        df = pd.read_csv(raw / f"{name}.csv", parse_dates=["time"])
        assert df["time"].iloc[0] == pd.Timestamp(t0) and df[col].iloc[0] == pytest.approx(v0), name
        assert df["time"].iloc[-1] == pd.Timestamp(last[name]), name
        assert df["time"].is_monotonic_increasing and not df["time"].duplicated().any()
        assert src.fetch() == raw  # present: no second fetch
    ewr = pd.read_csv(data_dir / "raw" / "ewr_weather" / "ewr_weather.csv", parse_dates=["time"])
    hours = pd.date_range(ewr["time"].iloc[0], ewr["time"].iloc[-1], freq="1h")
    assert len(ewr) == 8703 and len(hours) - len(ewr) == 27 and ewr["temp"].isna().sum() == 1


def test_a_registered_series_path_is_fetched_when_absent(data_dir, capsys):
    """data=csv with the path `rnn-data fetch NAME` writes: absent, it is fetched, then read like any CSV (the step
    inferred: weekly on Mondays)."""
    path = data_dir / "raw" / "us_gasoline" / "us_gasoline.csv"
    dm = ForecastDataModule(source="csv", path=str(path), target="barrels")
    dm.prepare_data()
    dm.setup()
    assert len(dm.frame) == 1355 and dm.state()["freq"] == "W-MON" and (dm.L, dm.H) == (104, 13)
    assert "one row every 1 week (on Mondays) (inferred)" in capsys.readouterr().out
    with pytest.raises(DataError, match="CSV file not found"):  # any other missing path stays an error
        ForecastDataModule(source="csv", path=str(data_dir / "raw" / "x" / "us_gasoline.csv"),
                           target="barrels").setup()


def test_a_season_longer_than_the_lookback_becomes_a_target_lag_and_a_blend_partner(tmp_path, capsys):
    """Daily: the year (364 days) is longer than the 8-week lookback. Where the train split holds twice a window
    that reads it, it becomes a target lag (a known feature) and the blend may choose its seasonal naive forecast,
    read from that feature: equal to the seasonal naive baseline computed from the raw series. On a shorter series
    it is left out, and a lag the user sets wins."""
    from rnnsuite.tasks.forecasting.model import Forecaster
    df = generated_series("D", 4 * 365, seed=5)
    path = tmp_path / "daily.csv"
    df.to_csv(path, index=False)
    dm = ForecastDataModule(source="csv", path=str(path), target="Demand", target_lags=None)
    dm.setup()
    assert dm.target_lags == [364] and "target lags [364] (known features)" in capsys.readouterr().out
    # from a day up, a val/test forecast from every step (below a day, one per horizon: the hourly test above)
    assert dm.eval_stride == 1 and (np.diff(dm.starts["test"]) == 1).all()
    m = Forecaster(**dm.model_dims(), cell={"type": "lstm", "backend": "fused", "init": "default",
                                            "nonlinearity": "tanh"}, hidden_size=4, blend=True)
    m.set_data_state(dm.state())
    assert m.partners == ["linear_lags", "seasonal_naive_week", "seasonal_naive_year"]
    batch = next(iter(dm.test_dataloader()))
    got = m.unscale_partners(m.partner_forecasts(batch["y"], batch["past"], batch["known"])).numpy()
    y, origins = df["Demand"].to_numpy(), dm.starts["test"] + dm.L
    by_hand = np.array([[y[o + h - 364] for h in range(dm.H)] for o in origins])
    np.testing.assert_allclose(got[..., 0, 2], by_hand, rtol=1e-5)
    np.testing.assert_allclose(dm.baseline_forecasts()["seasonal_naive_year"][..., 0], by_hand)
    short = tmp_path / "short.csv"
    df.iloc[:2 * 365].to_csv(short, index=False)
    for lags, expect in ((None, []), ([364], [364])):
        dm = ForecastDataModule(source="csv", path=str(short), target="Demand", target_lags=lags)
        dm.setup()
        assert dm.target_lags == expect


def test_own_csv_is_judged_on_mase_elecdemand_on_mape():
    """data=csv monitors val/mase and its blend chooses on it; elecdemand keeps val/mape. Where a series has small
    values, the two choose differently: baseline A is exact on the small value and 5 off on the large one, B is 0.5
    off on the small value (50%) and exact on the large one; MAPE picks A, MASE (MAE over a fixed scale) picks B."""
    from rnnsuite.tasks.forecasting.model import Forecaster
    assert compose("train", ["task=forecasting"]).monitor.metric == "val/mape"
    own = compose("train", ["task=forecasting", "data=csv", "data.path=my.csv", "data.target=load"])
    assert own.monitor.metric == "val/mase" and own.callbacks.early_stopping.monitor == "val/mase"
    actual = np.tile(np.array([1.0, 100.0]), (8, 1))[..., None]  # [N, H=2, n_t=1]
    a, b = actual + np.array([0.0, 5.0])[:, None], actual + np.array([0.5, 0.0])[:, None]
    network = actual + 50.0
    cell = {"type": "lstm", "backend": "fused", "init": "default", "nonlinearity": "tanh"}
    picks = {}
    for metric in ("val/mape", "val/mase"):
        m = Forecaster(1, 0, 2, 8, 2, cell, blend=True, hidden_size=4, seasons={"day": 2, "week": 4},
                       monitor={"metric": metric, "mode": "min"})
        m.set_data_state({"mase_scale": [3.0]})
        m.fit_blend(network, np.stack([a, b, network], -1), actual)
        picks[metric] = (float(m.blend_w), m.partners[int(m.blend_with)])
    assert picks == {"val/mape": (0.0, "linear_lags"), "val/mase": (0.0, "seasonal_naive_day")}
