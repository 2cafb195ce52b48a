"""Compare ways to calibrate a forecasting checkpoint's p10-p90 band, choosing on validation only.

    python scripts/forecast_calibration.py CKPT [CKPT ...] [--json out.json]

For each checkpoint the val and test forecasts are made once (uncalibrated). Each method is then judged twice:
- selection (validation only): fitted on the first half of the val forecast days, scored on the second half;
- test: fitted on all of val (and, for the online methods, on each test day once its actuals are known, as a
  forecaster in service would), scored on test.
Methods: split conformal with one additive pad (the task's `model.calibrate=split`), per horizon step, relative
to the median, scaled by the band's width (CQR-r), a rolling window of the last K days, adaptive conformal
inference (Gibbs & Candes 2021) with a step gamma per day, and the task's default `model.calibrate=online`: ACI
with the paper's gamma = 0.005 per observed point. The table gives the mean over checkpoints.
"""
import argparse
import json

import numpy as np

from rnnsuite.tasks.forecasting.model import band_scores, conformal_quantile, interval_score, online_band, pad_band

NOMINAL = 0.8


def forecasts(ckpt):
    """(val_pred, val_actual, test_pred, test_actual): [days, H, n_t, Q] and [days, H, n_t], uncalibrated."""
    import pytorch_lightning as pl
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from rnnsuite.checkpoints import load_checkpoint
    model = load_checkpoint(ckpt, "forecasting")
    dm = instantiate(OmegaConf.create(model.data_config), _convert_="all")
    dm.load_state(model.data_state)
    dm.prepare_data()
    dm.setup("fit")
    dm.setup("test")
    got = {}
    model.fit_band_pad = lambda pred, actual: got.__setitem__("val", (pred.copy(), actual.copy()))
    model.calibrate = lambda pred: pred
    model.val_scores = None  # no online recalibration either: the test forecasts stay as the network made them
    from rnnsuite.training.precision import choose_precision
    # the precision rnn-train's `auto` takes on this CPU (bf16 autocast where it is native), so that the default
    # method's figures are the run's own
    trainer = pl.Trainer(accelerator="cpu", precision=choose_precision("auto", "cpu")[0], logger=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.validate(model, datamodule=dm, verbose=False)
    trainer.test(model, datamodule=dm, verbose=False)
    return (*got["val"], model.test_result["pred"], model.test_result["actual"])


def band(pred, pad, scale):
    out = pad_band(pred, pad * scale)
    return out[..., 0], out[..., -1]


def scale_of(kind, pred):
    if kind == "relative":
        return np.abs(pred[..., pred.shape[-1] // 2])
    if kind == "width":
        return np.maximum(pred[..., -1] - pred[..., 0], 1e-9)
    return np.ones(pred.shape[:-1])


def static(kind, per_step, cal_p, cal_a, p):
    s = band_scores(cal_p, cal_a) / scale_of(kind, cal_p)
    # one pad per target series, as the task fits it, or one per (horizon step, series)
    pad = conformal_quantile(s if per_step else s.reshape(-1, s.shape[-1]), NOMINAL)
    return band(p, pad, scale_of(kind, p))


def online(cal_p, cal_a, p, a, window=0, gamma=0.0):
    """Day by day: the pad from the last `window` days' scores (0: all so far), at a level that ACI moves up
    after an under-covered day and down after an over-covered one; then the day's actuals join the scores."""
    scores = list(band_scores(cal_p, cal_a))
    level, los, his = NOMINAL, [], []
    for d in range(len(p)):
        recent = np.stack(scores[-window:] if window else scores)
        lo, hi = band(p[d], conformal_quantile(recent.reshape(-1, recent.shape[-1]), level), 1.0)
        los.append(lo)
        his.append(hi)
        level += gamma * (NOMINAL - np.mean((a[d] >= lo) & (a[d] <= hi)))
        scores.append(band_scores(p[d], a[d]))
    return np.stack(los), np.stack(his)


def task_online(cal_p, cal_a, p, a, gamma=0.005):
    out = online_band(p, a, band_scores(cal_p, cal_a).reshape(-1, a.shape[-1]), NOMINAL, gamma)
    return out[..., 0], out[..., -1]


METHODS = {
    "ACI, gamma 0.005 per point (the default, model.calibrate=online)": task_online,
    "split conformal, one pad (model.calibrate=split)": lambda cp, ca, p, a: static("additive", False, cp, ca, p),
    "per horizon step": lambda cp, ca, p, a: static("additive", True, cp, ca, p),
    "relative to the median": lambda cp, ca, p, a: static("relative", False, cp, ca, p),
    "scaled by band width (CQR-r)": lambda cp, ca, p, a: static("width", False, cp, ca, p),
    "rolling, last 7 days": lambda cp, ca, p, a: online(cp, ca, p, a, window=7),
    "rolling, last 28 days": lambda cp, ca, p, a: online(cp, ca, p, a, window=28),
    **{f"ACI, gamma {g}": (lambda cp, ca, p, a, g=g: online(cp, ca, p, a, gamma=g)) for g in (0.05, 0.1, 0.2, 0.5)},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt", nargs="+")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = {m: [] for m in METHODS}
    uncalibrated = []
    for ckpt in args.ckpt:
        vp, va, tp, ta = forecasts(ckpt)
        uncalibrated.append(np.mean((ta >= tp[..., 0]) & (ta <= tp[..., -1])))
        half = len(vp) // 2
        for name, fn in METHODS.items():
            out = []
            for cp, ca, p, a in ((vp[:half], va[:half], vp[half:], va[half:]), (vp, va, tp, ta)):
                lo, hi = fn(cp, ca, p, a)
                out += [float(np.mean((a >= lo) & (a <= hi))), interval_score(lo, hi, a, 1 - NOMINAL),
                        float(np.mean(hi - lo))]
            rows[name].append(out)
    print(f"{len(args.ckpt)} checkpoint(s); test coverage before calibration {np.mean(uncalibrated):.3f}\n")
    print("| method | selection: val 2nd half coverage | interval score | test coverage | interval score | width |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for name, r in rows.items():
        r = np.array(r)
        m, s = r.mean(0), r.std(0)
        summary[name] = {"val_coverage": m[0], "val_interval_score": m[1], "test_coverage": m[3],
                         "test_coverage_std": s[3], "test_interval_score": m[4], "test_width": m[5]}
        print(f"| {name} | {m[0]:.3f} | {m[1]:.3f} | {m[3]:.3f} ± {s[3]:.3f} | {m[4]:.3f} | {m[5]:.3f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"checkpoints": args.ckpt, "methods": summary}, f, indent=2)


if __name__ == "__main__":
    main()
