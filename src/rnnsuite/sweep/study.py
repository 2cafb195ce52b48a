"""An Optuna study whose trials are Hydra jobs, driven through Optuna's ask/tell interface.

- The study lives in a database (SQLite in the sweep folder unless `storage` names another SQLAlchemy URL), so
  the same command resumes it, and several worker processes or machines share it.
- `n_trials` counts over every worker and every run of the command: finished trials (complete, pruned, failed
  with an error) and trials that other workers are running. A trial whose worker was killed is failed by
  Optuna's heartbeat check and does not count; it is run again.
- A job that raises is told as FAILED with its error in the user attribute `error`; `optuna.TrialPruned`
  (from the Lightning pruning callback inside the job) as PRUNED. The sweep goes on either way.
- Each trial runs in `<sweep dir>/trial_<number>`; the sweep folder gets sweep_summary.md/.json and sweep.png.
"""
import logging
import math
import os
import socket
import sys
import threading
import time
import warnings
from pathlib import Path

import optuna
from hydra.core.utils import JobStatus
from hydra.utils import instantiate
from omegaconf import OmegaConf
from optuna.trial import TrialState

from . import space as search_space
from .grid import describe
from .summary import write_summary
from .trial import ENV_STORAGE, ENV_STUDY, ENV_TRIAL, register, release

log = logging.getLogger(__name__)

SAMPLERS = {
    "tpe": lambda: optuna.samplers.TPESampler(constant_liar=True),  # liar: parallel workers spread out
    "random": lambda: optuna.samplers.RandomSampler(),
    "cmaes": lambda: optuna.samplers.CmaEsSampler(),
    "gp": lambda: optuna.samplers.GPSampler(),
    "qmc": lambda: optuna.samplers.QMCSampler(),
}
# Pruning starts once 5 trials have completed, and never on a trial's first epoch.
PRUNERS = {
    "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    "percentile": lambda: optuna.pruners.PercentilePruner(25.0, n_startup_trials=5, n_warmup_steps=1),
    "hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1),
    "successive_halving": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1),
    "none": lambda: optuna.pruners.NopPruner(),
}
HEARTBEAT_S, GRACE_S = 15, 60   # a trial without a heartbeat for GRACE_S seconds is failed as stale


def counts(trial):
    """Whether a trial counts towards n_trials (see the module docstring)."""
    return trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING) or (
        trial.state == TrialState.FAIL and "error" in trial.user_attrs)


def default_storage(sweep_dir):
    return f"sqlite:///{(Path(sweep_dir) / 'optuna.db').resolve()}"


def shown(url):
    """The URL without its password, for logs and summaries."""
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def open_storage(url, attempts=5):
    """RDB storage with heartbeats; SQLite waits for a lock held by another worker instead of failing."""
    from sqlalchemy.exc import IntegrityError, OperationalError
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = {"connect_args": {"timeout": 60}}
    else:
        engine = None
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_S,
                                              grace_period=GRACE_S)
        except (IntegrityError, OperationalError):
            # Workers that start together race to create the schema; the loser finds it made on a retry.
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 + attempt)


def process_age():
    """Seconds since this process started (Linux /proc; None elsewhere)."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return round(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 2)
    except (OSError, ValueError, IndexError):
        return None


def build(spec, names, what, seed_offset=0):
    """A sampler or pruner from a name or a {_target_: ...} config."""
    if isinstance(spec, str):
        if spec not in names:
            raise ValueError(f"unknown {what} {spec!r}; choose one of {sorted(names)} or give {{_target_: ...}}")
        return names[spec]()
    spec = OmegaConf.to_container(spec, resolve=True) if OmegaConf.is_config(spec) else dict(spec)
    if spec.get("seed") is not None:
        # A resumed or joining worker must not replay the draws of the first one.
        spec["seed"] = int(spec["seed"]) + seed_offset
    return instantiate(spec)


class Heartbeat:
    """Records the heartbeat of running trials while their jobs run (what Study.optimize does for its own)."""

    def __init__(self, storage, trials):
        self.storage, self.ids = storage, [t._trial_id for t in trials]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self):
        while True:
            for i in self.ids:
                self.storage.record_heartbeat(i)
            if self.stop.wait(HEARTBEAT_S):
                return

    def __enter__(self):
        self.thread.start()

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


class OptunaSweep:
    def __init__(self, config, launcher, config_loader, storage=None, study_name=None, n_trials=20, n_jobs=1,
                 direction=None, sampler="tpe", pruner="median", params=None, enqueue=()):
        self.config, self.launcher, self.config_loader = config, launcher, config_loader
        self.sweep_dir = Path(config.hydra.sweep.dir)
        self.storage_url = storage or default_storage(self.sweep_dir)
        self.study_name = study_name or self.sweep_dir.name
        self.n_trials, self.n_jobs = int(n_trials), max(1, int(n_jobs))
        if direction is None:
            direction = OmegaConf.select(config, "monitor.mode", default="min")
        self.direction = {"max": "maximize", "min": "minimize"}.get(direction, direction)
        if self.direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be maximize or minimize, got {direction!r}")
        self.sampler_spec, self.pruner_spec = sampler, pruner
        self.params = dict(params or {})
        self.enqueue = [dict(e) for e in (enqueue or [])]
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.startup = process_age()  # Python, imports and Hydra's composition, before the first trial

    def open_study(self):
        storage = open_storage(self.storage_url)
        try:
            existing = optuna.load_study(study_name=self.study_name, storage=storage)
            done = len(existing.get_trials(deepcopy=False))
        except KeyError:
            done = 0
        study = optuna.create_study(storage=storage, study_name=self.study_name, direction=self.direction,
                                    load_if_exists=True,
                                    sampler=build(self.sampler_spec, SAMPLERS, "sampler", seed_offset=done),
                                    pruner=build(self.pruner_spec, PRUNERS, "pruner"))
        if study.direction.name.lower() != self.direction:
            raise ValueError(f"study {self.study_name!r} in {shown(self.storage_url)} was created to "
                             f"{study.direction.name.lower()}, not {self.direction}; "
                             f"give another hydra.sweeper.study_name")
        return study

    def run(self, arguments):
        fixed, space = search_space.parse([f"{k}={v}" for k, v in self.params.items()] + list(arguments),
                                          self.config_loader)
        if not space:
            raise ValueError("the Optuna sweep has no search space: give hydra.sweeper.params or a "
                             "choice()/interval()/range() override")
        self.sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, self.sweep_dir / "multirun.yaml")
        study = self.open_study()
        for params in self.enqueue:
            self.check_enqueued(params, space)
            study.enqueue_trial(params, skip_if_exists=True)
        have = sum(counts(t) for t in study.get_trials(deepcopy=False))
        log.info(f"study {self.study_name!r} ({shown(self.storage_url)}): {have} of {self.n_trials} trials; "
                 f"worker {self.worker}; search space {sorted(space)}")
        while True:
            started = time.time()
            batch = self.ask(study, space)
            if batch is None:
                break
            if batch:
                self.launch(study, batch, fixed)
                self.summarise(study, plot=False)
                self.account(study, len(batch), time.time() - started)
            else:  # the other workers run the last trials; a trial of a dead worker is failed and rerun
                time.sleep(HEARTBEAT_S)
        summary = self.summarise(study)
        log.info(f"sweep summary: {self.sweep_dir / 'sweep_summary.md'}")
        if summary["states"].get("COMPLETE", 0) == 0:
            print(f"error: no trial of study {self.study_name!r} completed; see the errors in "
                  f"{self.sweep_dir / 'sweep_summary.md'}", file=sys.stderr)
            sys.exit(1)
        return study

    @staticmethod
    def check_enqueued(params, space):
        for key, value in params.items():
            dist = space.get(key)
            if dist is None:
                raise ValueError(f"enqueued trial sets {key!r}, which is not in the search space {sorted(space)}")
            if isinstance(dist, optuna.distributions.CategoricalDistribution) and value not in dist.choices:
                raise ValueError(f"enqueued trial sets {key}={value!r}, not one of the choices {dist.choices}")

    def ask(self, study, space):
        """Up to n_jobs new trials; [] while only other workers' trials are left; None when the study is done."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
        todo = self.n_trials - sum(counts(t) for t in trials)
        if todo <= 0:
            return [] if any(t.state == TrialState.RUNNING for t in trials) else None
        batch = []
        for _ in range(min(self.n_jobs, todo)):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*Heartbeat.*Study.optimize")
                warnings.filterwarnings("ignore", message=".*Fixed parameter.*out of range")  # enqueued: meant
                trial = study.ask(space)
            earlier = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number and counts(t)]
            if len(earlier) >= self.n_trials:  # another worker asked at the same moment and got there first
                trial.set_user_attr("not_run", f"the study already had {self.n_trials} trials")
                study.tell(trial, state=TrialState.FAIL)
                continue
            trial.set_user_attr("worker", self.worker)
            batch.append(trial)
        return batch

    def account(self, study, trials, seconds):
        """This worker's time: process start-up once, then per batch the whole cycle (ask, launch, tell,
        summary). The summary compares it with the trials' own time to give the sweep's overhead."""
        key = f"worker {self.worker}"
        mine = study.user_attrs.get(key) or {"startup_seconds": self.startup, "trials": 0, "cycle_seconds": 0.0}
        mine["trials"] += trials
        mine["cycle_seconds"] = round(mine["cycle_seconds"] + seconds, 2)
        study.set_user_attr(key, mine)

    def overrides(self, trial, fixed):
        env = {ENV_STORAGE: self.storage_url, ENV_STUDY: self.study_name, ENV_TRIAL: trial.number}
        return (list(fixed) + [search_space.override(k, v) for k, v in trial.params.items()]
                + [f"hydra.sweep.subdir=trial_{trial.number}"]
                + [search_space.override(f"+hydra.job.env_set.{k}", str(v)) for k, v in env.items()])

    def launch(self, study, batch, fixed):
        for trial in batch:
            register(self.study_name, trial)
        try:
            with Heartbeat(study._storage, batch):
                results = self.launcher.launch([self.overrides(t, fixed) for t in batch],
                                               initial_job_idx=batch[0].number)
        except BaseException as e:  # Ctrl-C or a launcher crash: close the trials, they are run again
            for trial in batch:
                trial.set_user_attr("interrupted", f"{type(e).__name__}: {e}")
                study.tell(trial, state=TrialState.FAIL)
            raise
        for trial, ret in zip(batch, results):
            release(self.study_name, trial)
            self.tell(study, trial, ret)

    @staticmethod
    def tell(study, trial, ret):
        error = ret._return_value if ret.status == JobStatus.FAILED else None
        if isinstance(error, optuna.TrialPruned):
            study.tell(trial, state=TrialState.PRUNED)
            return
        if error is None:
            value = ret._return_value
            if value is None:
                error = "the run returned no value (no monitored metric)"
            elif not math.isfinite(float(value)):
                error = f"the monitored metric is {value}"
            else:
                study.tell(trial, float(value))
                return
        else:
            error = describe(error)
        trial.set_user_attr("error", str(error)[:2000])
        study.tell(trial, state=TrialState.FAIL)

    def summarise(self, study, plot=True):
        return write_summary(study, self.sweep_dir, self.n_trials, shown(self.storage_url),
                             OmegaConf.select(self.config, "monitor.metric"), plot=plot)
