"""Multi-horizon forecasters around the shared RNN types. Three styles, chosen by `model.style`:

- `synced`: a `SeqToSeq` reads [y_t, past_t, known_{t+1}] and predicts y_{t+1} at every step (trained on the
  target shifted by one); it forecasts recursively, feeding its own median back for H steps.
- `direct`: a `RecurrentStack` encodes the lookback; a head maps [final state; known covariates of the
  horizon] to all H steps at once.
- `encdec`: an `EncoderDecoder` whose decoder reads [y_{t-1}; known_t] per horizon step, with teacher forcing
  and scheduled sampling (the chance of feeding the gold value decays over the epochs).

With `quantiles` the output is one value per quantile, trained with the pinball loss; the point forecast is
the median. Metrics are computed in original units from the scaler in `data_state`.

With `residual: ridge` (direct style) the network learns a correction to the ridge baseline: the DataModule
fits the ridge on train (penalty chosen on val), the model keeps its weights as buffers, and every quantile
is the ridge forecast plus the network's output. The head's last layer starts at zero, so an untrained model
forecasts exactly the ridge and training only has to find what the ridge misses.

With `blend: true` the forecast is w * network + (1 - w) * baseline, every quantile alike. The baseline is the
ridge or one of the seasonal naive forecasts (`seasons` of at most `lookback` steps, which the model reads
from the lookback, and longer ones from their target lags), and it and w in {0, 0.1, ..., 1} are chosen together
on each validation pass (lowest val MAPE of the median, or MASE when the monitored metric is a MASE, before the band
is calibrated) and saved with that epoch's checkpoint: where validation
says the network is no better than a baseline (a short series), the forecast falls back to it, and where both
carry information, they are averaged. `val/mape_network` logs the network's own val MAPE beside it, in every
mode; early stopping and the checkpoint follow the blended `val/mape` (following the network's instead trained
longer, but did no better on test: docs/tasks/forecasting.md).

`calibrate` pads the p10-p90 band with the conformity scores of the validation forecasts (conformalized quantile
regression). `split` keeps that one pad. `online` (the default) starts from it and, where the actuals follow the
forecasts in time (the test split, `rnn-eval`), recalibrates forecast by forecast: each forecast whose horizon
has been observed adds its scores, and the level moves by adaptive conformal inference (Gibbs & Candes 2021) with
the paper's step gamma = 0.005 per observed point. Nothing about it is chosen on test.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.aggregation import CatMetric

from rnnsuite.architectures import EncoderDecoder, SeqToSeq, teacher_forcing_at
from rnnsuite.cells import build_stack, final_hidden
from rnnsuite.metrics import SplitMetrics, mape
from rnnsuite.training import TaskModule

from .data import forecast_metrics, seasonal_lags

STYLES = ("synced", "direct", "encdec")


def pinball(pred, y, quantiles):
    """pred [..., Q], y [...]: the mean quantile (pinball) loss."""
    q = torch.as_tensor(quantiles, device=pred.device, dtype=pred.dtype)
    e = y[..., None] - pred
    return torch.maximum(q * e, (q - 1) * e).mean()


def interval_score(lo, hi, y, alpha):
    """The mean interval (Winkler) score of central (1 - alpha) intervals (Gneiting & Raftery 2007): the
    width, plus 2 / alpha times how far each point falls outside. Lower is better; in the target's units."""
    lo, hi, y = (np.asarray(a, float) for a in (lo, hi, y))
    return float(np.mean(hi - lo + 2 / alpha * (np.maximum(lo - y, 0) + np.maximum(y - hi, 0))))


def conformal_quantile(scores, level):
    """Split conformal: the quantile of scores [n, ...] along the first axis at the finite-sample level
    ceil((n + 1) * level) / n, clipped to [0, 1]."""
    n = len(scores)
    return np.quantile(scores, min(1.0, max(0.0, np.ceil((n + 1) * level) / n)), axis=0)


def coverage(pred, actual):
    """The share of actuals [.., n_t] inside the outer quantiles of pred [.., n_t, Q]."""
    return float(np.mean((actual >= pred[..., 0]) & (actual <= pred[..., -1])))


def band_scores(pred, actual):
    """Conformity scores of bands pred [.., n_t, Q] on actuals [.., n_t]: how far each actual falls outside the
    outer quantiles (negative inside)."""
    return np.maximum(pred[..., 0] - actual, actual - pred[..., -1])


def pad_band(pred, pad):
    """Widen (or narrow, pad < 0) the outer quantiles of pred [.., n_t, Q] by pad [n_t]; never past the median."""
    pred = pred.copy()
    mid = pred.shape[-1] // 2
    pred[..., 0] = np.minimum(pred[..., 0] - pad, pred[..., mid])
    pred[..., -1] = np.maximum(pred[..., -1] + pad, pred[..., mid])
    return pred


def online_band(pred, actual, scores, nominal, gamma, delay=1):
    """Adaptive conformal inference (Gibbs & Candes 2021) over forecasts in time order, pred [N, H, n_t, Q] and
    actual [N, H, n_t], starting from calibration scores [n, n_t]. Forecast d is padded by the conformal
    quantile, at the current level, of the scores known at its origin: the calibration scores and those of the
    forecasts up to d - delay (whose whole horizon has been observed). Each forecast that becomes known moves the
    level by gamma per observed point: up for a point outside its band, down for one inside
    (level += gamma * sum(nominal - covered)). Returns the padded forecasts."""
    known, level, out = [np.asarray(scores, float)], float(nominal), []
    for d in range(len(pred)):
        j = d - delay
        if j >= 0:  # forecast j's horizon is now observed
            known.append(band_scores(pred[j], actual[j]).reshape(-1, actual.shape[-1]))
            level += gamma * actual[j].size * (nominal - coverage(out[j], actual[j]))
        out.append(pad_band(pred[d], conformal_quantile(np.concatenate(known), level)))
    return np.stack(out) if out else pred.copy()


class Forecaster(TaskModule):
    task_name = "forecasting"

    def __init__(self, n_targets, n_past, n_known, lookback, horizon, cell, optim=None, monitor=None,
                 style="direct", hidden_size=64, num_layers=1, dropout=0.0, quantiles=(0.1, 0.5, 0.9),
                 loss="mae", teacher_forcing_start=1.0, teacher_forcing_end=0.5, head_hidden=128,
                 calibrate="online", band_gamma=0.005, residual=None, blend=False, ridge=None, seasons=None,
                 target_lags=None):
        super().__init__(optim, monitor)
        if calibrate not in (True, False, None, "split", "online"):
            raise ValueError(f"unknown model.calibrate {calibrate!r}; choose online, split or false")
        if style not in STYLES:
            raise ValueError(f"unknown model.style {style!r}; choose one of {STYLES}")
        if loss not in ("mae", "mse"):
            raise ValueError(f"unknown model.loss {loss!r}; choose mae or mse (quantiles use the pinball loss)")
        if residual not in (None, "ridge"):
            raise ValueError(f"unknown model.residual {residual!r}; choose ridge or null")
        if residual and style != "direct":
            raise ValueError("model.residual=ridge needs model.style=direct (set model.residual=null for "
                             f"style {style!r})")
        self.save_hyperparameters(ignore=["ridge"])  # the ridge weights are buffers, saved in the state dict
        self.quantiles = sorted(quantiles) if quantiles else None
        if self.quantiles and 0.5 not in self.quantiles:
            raise ValueError("model.quantiles must include 0.5: the median is the point forecast")
        self.Q = len(self.quantiles) if self.quantiles else 1
        self.mid = self.quantiles.index(0.5) if self.quantiles else 0
        nt, H = n_targets, horizon
        enc_in = n_targets + n_past + n_known
        if style == "synced":
            self.net = SeqToSeq(build_stack(cell, enc_in, hidden_size, num_layers, False, dropout))
            self.readout = nn.Linear(hidden_size, nt * self.Q)
        elif style == "direct":
            self.encoder = build_stack(cell, enc_in, hidden_size, num_layers, False, dropout)
            self.head = nn.Sequential(nn.Linear(hidden_size + H * n_known, head_hidden), nn.GELU(),
                                      nn.Dropout(dropout), nn.Linear(head_hidden, H * nt * self.Q))
            if residual:
                nn.init.zeros_(self.head[-1].weight)
                nn.init.zeros_(self.head[-1].bias)
        else:
            enc = build_stack(cell, enc_in, hidden_size, num_layers, False, dropout)
            dec = build_stack(cell, nt + n_known, hidden_size, num_layers, False, dropout)
            # continuous values: the decoder reads [y_prev; known] as is, and the median is fed back
            self.net = EncoderDecoder(enc, dec, embed_target=nn.Identity(),
                                      readout=nn.Linear(hidden_size, nt * self.Q), feedback=self._feed_back_median)
        if residual or blend:
            n_in = lookback * nt + n_past + H * n_known  # the DataModule's ridge_features, per window
            w, b = ridge if ridge is not None else (torch.zeros(n_in, H * nt), torch.zeros(H * nt))
            self.register_buffer("ridge_w", torch.as_tensor(w, dtype=torch.float32).reshape(n_in, H * nt))
            self.register_buffer("ridge_b", torch.as_tensor(b, dtype=torch.float32).reshape(H * nt))
            if blend:  # the weight of the network against a baseline, and which baseline, fitted on val
                self.register_buffer("blend_w", torch.ones(()))
                self.register_buffer("blend_with", torch.zeros((), dtype=torch.long))
        # the baselines a blend may choose: the ridge, then the seasonal naive forecasts the lookback covers
        covered = {k: m for k, m in (seasons or {}).items() if m <= lookback}
        self.partners = ["linear_lags"] + [f"seasonal_naive_{k}" for k in covered]
        # the lookback step each seasonal naive forecast repeats, per horizon step
        self.naive_steps = [(lookback + np.arange(horizon) - seasonal_lags(horizon, m)).tolist()
                            for m in covered.values()]
        # a season longer than the lookback is read from its target lag (the last known features, one block of
        # n_t per lag): at horizon step h the lag m >= H holds y_{origin + h - m}, the seasonal naive forecast
        lags = list(target_lags or [])
        names = {m: k for k, m in (seasons or {}).items()}
        self.lag_blocks = [n_known - (len(lags) - j) * nt for j, m in enumerate(lags) if m > lookback]
        self.partners += [f"seasonal_naive_{names.get(m, m)}" for m in lags if m > lookback]
        # the target scaler (set from the data state): forecasts are unscaled to original units
        self.register_buffer("mu", torch.zeros(nt), persistent=False)
        self.register_buffer("sd", torch.ones(nt), persistent=False)
        # Conformal widening of the outer quantiles, fitted on each validation pass (in original units, per
        # target); saved with the checkpoint of that epoch.
        self.register_buffer("band_pad", torch.zeros(nt))
        self.val_scores = None  # the conformity scores behind it [n, n_t], where online calibration goes on from
        # every val/test forecast and its actuals (original units), gathered over the epoch and, under DDP, over
        # processes: the metrics, the conformal pad and the plots need all of them
        kept = ("origin", "pred", "actual") + (("partners",) if blend else ())
        self.collected = SplitMetrics(lambda split: {k: CatMetric(nan_strategy="disable") for k in kept},
                                      splits=("val", "test"))

    def set_data_state(self, state):
        super().set_data_state(state)
        scaler = self.data_state.get("scaler", {})
        targets = self.data_state.get("targets", [])
        if targets:
            self.mu.copy_(torch.tensor([scaler[c][0] for c in targets]))
            self.sd.copy_(torch.tensor([scaler[c][1] for c in targets]))

    # ------------------------------------------------------------------ forward: scaled [B, H, n_t, Q]
    def forward(self, y, past, known, teacher_forcing=0.0):
        """y, past, known: the window's scaled series [B, L+H, .] (y's horizon part is used only for teacher
        forcing). Returns scaled forecasts [B, H, n_targets, Q]."""
        L, H, nt = self.hparams.lookback, self.hparams.horizon, self.hparams.n_targets
        B = y.size(0)
        style = self.hparams.style
        if style == "direct":
            _, state = self.encoder(torch.cat([y[:, :L], past[:, :L], known[:, :L]], -1))
            h = final_hidden(state, self.encoder.num_layers, 1)
            out = self.head(torch.cat([h, known[:, L:L + H].reshape(B, -1)], -1)).view(B, H, nt, self.Q)
            return out + self.ridge_forecast(y, past, known)[..., None] if self.hparams.residual else out
        if style == "synced":
            return self._synced(y, past, known)
        return self._encdec(y, past, known, teacher_forcing)

    def ridge_forecast(self, y, past, known):
        """The ridge baseline on a batch of windows, scaled [B, H, n_t]."""
        L, H = self.hparams.lookback, self.hparams.horizon
        B = y.size(0)
        x = torch.cat([y[:, :L].reshape(B, -1), past[:, L - 1], known[:, L:L + H].reshape(B, -1)], -1)
        return (x @ self.ridge_w + self.ridge_b).view(B, H, -1)

    def partner_forecasts(self, y, past, known):
        """What a blend may choose from, scaled [B, H, n_t, P]: the ridge, then each seasonal naive forecast
        (step h of the horizon repeats the same step of the last observed season)."""
        L, H, nt = self.hparams.lookback, self.hparams.horizon, self.hparams.n_targets
        naive = [y[:, steps] for steps in self.naive_steps]
        naive += [known[:, L:L + H, c:c + nt] for c in self.lag_blocks]
        return torch.stack([self.ridge_forecast(y, past, known), *naive], -1)

    def on_save_checkpoint(self, checkpoint):
        super().on_save_checkpoint(checkpoint)
        if self.val_scores is not None:
            checkpoint["band_scores"] = torch.as_tensor(self.val_scores)

    def on_load_checkpoint(self, checkpoint):
        # blends saved before the baseline choice existed always blended with the ridge
        if self.hparams.blend:
            checkpoint["state_dict"].setdefault("blend_with", torch.zeros((), dtype=torch.long))
        super().on_load_checkpoint(checkpoint)
        scores = checkpoint.get("band_scores")
        self.val_scores = None if scores is None else scores.numpy()

    def _synced(self, y, past, known):
        L, H, nt = self.hparams.lookback, self.hparams.horizon, self.hparams.n_targets
        B = y.size(0)
        # input at t: [y_t, past_t, known_{t+1}], predicting y_{t+1}
        x = torch.cat([y[:, :L - 1], past[:, :L - 1], known[:, 1:L]], -1)
        _, state = self.net(x)
        prev, last_past, preds = y[:, L - 1], past[:, L - 1], []
        for h in range(H):  # recursive: past-only covariates are held at their last observed value
            out, state = self.net.step(torch.cat([prev, last_past, known[:, L + h]], -1), state)
            pred = self.readout(out).view(B, nt, self.Q)
            preds.append(pred)
            prev = pred[..., self.mid]
        return torch.stack(preds, 1)

    def synced_train_outputs(self, y, past, known):
        """Teacher-forced one-step predictions over the whole window: [B, L+H-1, n_t, Q] for y[:, 1:]."""
        x = torch.cat([y[:, :-1], past[:, :-1], known[:, 1:]], -1)
        out, _ = self.net(x)
        return self.readout(out).view(y.size(0), x.size(1), -1, self.Q)

    def _encdec(self, y, past, known, teacher_forcing):
        """The decoder reads [y_{t-1}; known_t]; teacher_forcing < 1 (and inference, at 0) feeds back its own
        median in place of y_{t-1} (scheduled sampling), the known part stays."""
        L, H = self.hparams.lookback, self.hparams.horizon
        src = torch.cat([y[:, :L], past[:, :L], known[:, :L]], -1)
        tgt_in = torch.cat([y[:, L - 1:L + H - 1], known[:, L:L + H]], -1)
        return self.net(src, None, tgt_in, teacher_forcing).view(y.size(0), H, -1, self.Q)

    def _feed_back_median(self, pred, gold_next):
        nt = self.hparams.n_targets
        return torch.cat([pred.view(pred.size(0), nt, self.Q)[..., self.mid], gold_next[:, nt:]], -1)

    # ------------------------------------------------------------------ training
    def _loss(self, pred, target):
        if self.quantiles:
            return pinball(pred, target, self.quantiles)
        p = pred[..., 0]
        return F.l1_loss(p, target) if self.hparams.loss == "mae" else F.mse_loss(p, target)

    def teacher_forcing(self):
        """Scheduled sampling's ratio this epoch: linear from start to end over the planned epochs."""
        h = self.hparams
        return teacher_forcing_at(self.current_epoch, self.trainer.max_epochs if self._trainer is not None else 1,
                                  h.teacher_forcing_start, h.teacher_forcing_end)

    def _step(self, batch, split):
        y, past, known = batch["y"], batch["past"], batch["known"]
        L = self.hparams.lookback
        if split != "train":  # forecasts from the lookback alone, kept for the epoch's metrics
            pred = self(y, past, known)
            loss = self._loss(pred, y[:, L:])
            self.collected[split]["origin"].update(batch["origin"])
            self.collected[split]["pred"].update(self.unscale(pred))
            self.collected[split]["actual"].update(batch["target"])
            if self.hparams.blend:
                self.collected[split]["partners"].update(self.unscale_partners(self.partner_forecasts(y, past, known)))
        elif self.hparams.style == "synced":
            loss = self._loss(self.synced_train_outputs(y, past, known), y[:, 1:])
        else:
            tf = self.teacher_forcing() if self.hparams.style == "encdec" else 0.0
            loss = self._loss(self(y, past, known, teacher_forcing=tf), y[:, L:])
        self.log_split(split, {"loss": loss}, batch_size=y.size(0))
        return loss

    def unscale(self, pred):
        """[B, H, n_t, Q] scaled -> original units, quantiles sorted so that they never cross (rearrangement,
        Chernozhukov et al. 2010): separately trained outputs can swap order on unusual inputs."""
        return pred.sort(-1).values * self.sd[:, None] + self.mu[:, None]

    def unscale_partners(self, partners):
        """Baseline forecasts [B, H, n_t, P], scaled -> original units (no sorting: P is not a quantile axis)."""
        return partners * self.sd[:, None] + self.mu[:, None]

    def _epoch_metrics(self, split):
        c = self.collected[split]
        if not c["pred"].update_called:
            return
        H, nt = self.hparams.horizon, self.hparams.n_targets
        # in time order (online calibration reads them as a series): under DDP the gather puts the processes'
        # shards one after the other, and each shard is every world-th forecast
        order = np.argsort(c["origin"].compute().cpu().numpy(), kind="stable")
        pred = c["pred"].compute().reshape(-1, H, nt, self.Q).cpu().numpy()[order]
        actual = c["actual"].compute().reshape(-1, H, nt).cpu().numpy()[order]
        # the network's own MAPE, before any blend (the same as val/mape without one)
        self.log(f"{split}/mape_network", mape(actual, pred[..., self.mid]))
        if self.hparams.blend:
            partners = c["partners"].compute().reshape(-1, H, nt, len(self.partners)).cpu().numpy()[order]
            if split == "val" and not self.trainer.sanity_checking:
                self.fit_blend(pred[..., self.mid], partners, actual)
            pred = self.blended(pred, partners)
            if split == "val":
                self.log("val/blend_w", float(self.blend_w))
                self.log("val/blend_with", float(self.blend_with))
        for metric in c.values():
            metric.reset()
        overall, per_step = forecast_metrics(actual, pred[..., self.mid], self.data_state["mase_scale"])
        if self.quantiles and len(self.quantiles) > 1:
            if split == "test" and self.hparams.calibrate:
                overall["coverage_uncalibrated"] = coverage(pred, actual)
                split_pad = self.calibrate(pred)
                overall["coverage_split"] = coverage(split_pad, actual)
                pred = self.calibrate_online(pred, actual) if self.online else split_pad
            lo, hi = pred[..., 0], pred[..., -1]
            overall["coverage"] = coverage(pred, actual)
            overall["interval_width"] = float(np.mean(hi - lo))
            overall["interval_score"] = interval_score(lo, hi, actual, self.quantiles[0] + 1 - self.quantiles[-1])
            if split == "val" and self.hparams.calibrate and not self.trainer.sanity_checking:
                self.fit_band_pad(pred, actual)
        for k, v in overall.items():
            self.log(f"{split}/{k}", v, prog_bar=k == "mape")
        if split == "test":
            self.test_result = {"pred": pred, "actual": actual, "per_horizon": per_step, "overall": overall}

    def select_score(self, actual, pred):
        """What validation chooses on, the kind of the monitored metric: MASE when it is a MASE (the CSV path's
        default: defined for zeros and negative values), else MAPE (elecdemand's)."""
        if "mase" in self.monitor["metric"]:
            return forecast_metrics(actual, pred, self.data_state["mase_scale"])[0]["mase"]
        return mape(actual, pred)

    def fit_blend(self, median, partners, actual):
        """The baseline (partners [.., n_t, P]) and the weight of the network's median against it with the
        lowest val score (`select_score`); on a tie, the higher weight and the earlier baseline."""
        grid = np.linspace(1, 0, 11)
        errs = [[self.select_score(actual, w * median + (1 - w) * partners[..., p])
                 for p in range(partners.shape[-1])] for w in grid]
        i, p = np.unravel_index(int(np.argmin(errs)), np.shape(errs))
        self.blend_w.fill_(float(grid[i]))
        self.blend_with.fill_(int(p) if grid[i] < 1 else 0)

    def blended(self, pred, partners):
        """Original-unit forecasts [.., n_t, Q] blended with the chosen baseline of partners [.., n_t, P]."""
        w = float(self.blend_w)
        return w * pred + (1 - w) * partners[..., int(self.blend_with)][..., None]

    def fit_band_pad(self, pred, actual):
        """Conformalized quantile regression (Romano et al. 2019): the pad that makes the outer quantiles cover
        their nominal share of the validation points (it may be negative when the band is too wide)."""
        score = band_scores(pred, actual).reshape(-1, actual.shape[-1])
        self.band_pad.copy_(torch.as_tensor(conformal_quantile(score, self.nominal), dtype=self.band_pad.dtype))
        self.val_scores = score.astype(np.float32)

    @property
    def nominal(self):
        return self.quantiles[-1] - self.quantiles[0]

    @property
    def online(self):
        """Online calibration applies where the validation scores it starts from were kept."""
        return self.hparams.calibrate == "online" and self.val_scores is not None

    def calibrate(self, pred):
        """Widen (or narrow) the outer quantiles of original-unit forecasts [.., n_t, Q] by the fitted pad."""
        return pad_band(pred, self.band_pad.cpu().numpy())

    def calibrate_online(self, pred, actual):
        """Forecasts [N, H, n_t, Q] in time order with their actuals: the band recalibrated forecast by forecast
        (`online_band`); a forecast's scores count once its whole horizon is observed."""
        dm = self.trainer.datamodule if self._trainer is not None else None
        stride = getattr(dm, "eval_stride", None) or self.hparams.horizon
        delay = -(-self.hparams.horizon // stride)
        return online_band(pred, actual, self.val_scores, self.nominal, self.hparams.band_gamma, delay)

    def on_validation_epoch_end(self):
        self._epoch_metrics("val")

    def on_test_epoch_end(self):
        self._epoch_metrics("test")

    # ------------------------------------------------------------------ people-facing
    @torch.no_grad()
    def forecast(self, y, past, known):
        """Scaled window tensors [1 or B, L+H, .] -> forecasts in original units [B, H, n_t, Q] (numpy)."""
        was = self.training
        self.eval()
        y, past, known = y.to(self.device), past.to(self.device), known.to(self.device)
        out = self.unscale(self(y, past, known)).cpu().numpy()
        if self.hparams.blend:
            out = self.blended(out, self.unscale_partners(self.partner_forecasts(y, past, known)).cpu().numpy())
        self.train(was)
        return self.calibrate(out) if self.quantiles and len(self.quantiles) > 1 and self.hparams.calibrate else out

    def examples(self, datamodule, n=5):
        res = getattr(self, "test_result", None)
        if res is None:
            return []
        st, H = self.data_state, self.hparams.horizon
        origins = datamodule.starts["test"] + self.hparams.lookback
        lines = []
        for i in range(min(n, len(origins))):
            t0 = datamodule.frame.index[origins[i]]
            a, p = res["actual"][i, :, 0], res["pred"][i, :, 0, self.mid]
            err = 100 * np.mean(np.abs((a - p) / a))
            lines.append(f"{t0} +{H} steps of {st['targets'][0]}: forecast {p[0]:.3f} .. {p[-1]:.3f}, "
                         f"actual {a[0]:.3f} .. {a[-1]:.3f}, MAPE {err:.2f}%")
        return lines

    def extra_results(self, datamodule, run_dir):
        from .plots import forecast_plot, horizon_plot
        res = getattr(self, "test_result", None)
        if res is None:
            return {}
        st = self.data_state
        baselines = datamodule.baseline_forecasts()
        base_steps = {k: forecast_metrics(res["actual"], v, st["mase_scale"])[1]["mape"] for k, v in baselines.items()}
        naive = next((k for k in baselines if k.startswith("seasonal_naive_")), None)  # the shortest season
        images = {
            "forecast": forecast_plot(datamodule, res["pred"], self.quantiles, run_dir / "forecast.png",
                                      baseline=baselines.get(naive),
                                      baseline_label=naive and naive.replace("_", " ").replace("naive ", "naive (")
                                      + ")"),
            "per_horizon": horizon_plot(res["per_horizon"]["mape"], base_steps, run_dir / "per_horizon_mape.png"),
        }
        blend = ({"with": self.partners[int(self.blend_with)], "w": float(self.blend_w)} if self.hparams.blend
                 else None)
        return {"images": images, "per_horizon": res["per_horizon"], "blend": blend,
                "style": self.hparams.style, "quantiles": self.quantiles,
                "windows": {k: int(len(datamodule.starts[k])) for k in ("train", "val", "test")},
                "filled_missing": datamodule.filled,
                # the baselines on the val windows every choice was made on (test: results.json's "baselines")
                "val_baselines": {k: {m: v[m] for m in ("mae", "mape", "mase")}
                                  for k, v in datamodule.baselines("val").items()},
                # what the run followed from the series' step (or was given): the own-series study tables it
                "step": {"freq": st["freq"], "rows": int(len(datamodule.frame)), "lookback": self.hparams.lookback,
                         "horizon": self.hparams.horizon, "seasons": st.get("seasons"), "season": st["season"]}}
