"""The run's side of an Optuna sweep: which trial it is, and what it reports to it.

The sweeper names the trial in the job's environment (`hydra.job.env_set`), so that a run finds its trial
in-process (the basic launcher), in a launcher's worker process, or in a DDP rank alike."""
import os

ENV_STORAGE, ENV_STUDY, ENV_TRIAL = "RNNSUITE_OPTUNA_STORAGE", "RNNSUITE_OPTUNA_STUDY", "RNNSUITE_OPTUNA_TRIAL"
_ACTIVE = {}  # (study, number) -> optuna.Trial, handed over by a sweeper in the same process


def register(study_name, trial):
    _ACTIVE[(study_name, trial.number)] = trial


def release(study_name, trial):
    _ACTIVE.pop((study_name, trial.number), None)


def current_trial():
    """The Optuna trial this run is, or None outside an Optuna sweep."""
    number = os.environ.get(ENV_TRIAL)
    if number is None:
        return None
    study_name, number = os.environ[ENV_STUDY], int(number)
    trial = _ACTIVE.get((study_name, number))
    if trial is None:  # another process than the sweeper's: reconnect to the study's storage
        import optuna
        study = optuna.load_study(study_name=study_name, storage=os.environ[ENV_STORAGE])
        frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
        trial = optuna.trial.Trial(study, frozen._trial_id)
    return trial


def trial_callbacks(trial, monitor):
    """Optuna's Lightning pruning callback on the monitored validation metric (reported every epoch)."""
    # optuna-integration's callback is written against `lightning.pytorch`; pytorch_lightning's Trainer calls
    # its hooks by name, so it serves our Trainer too (tests/unit/test_sweep.py prunes through it).
    from optuna_integration import PyTorchLightningPruningCallback
    return [PyTorchLightningPruningCallback(trial, monitor=monitor)]


def wandb_names(trial):
    """W&B run name and group of a trial: one run per trial, grouped by study."""
    study = trial.study.study_name
    return {"group": study, "name": f"{study}-trial{trial.number}", "job_type": "sweep"}
