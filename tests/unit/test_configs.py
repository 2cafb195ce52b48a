"""Every config group composes; every option instantiates (the GPU trainer only where a GPU exists)."""
import pytest
import torch
from hydra.utils import instantiate

from rnnsuite.config import CONF_MODULE, conf_options, register_resolvers
from rnnsuite.run import build_callbacks, build_loggers
from rnnsuite.training.precision import resolve_trainer_precision
from tests.conftest import compose

options = conf_options


@pytest.mark.parametrize("cell", options("cell"))
def test_cells_compose_and_build(cell):
    from rnnsuite.cells import build_stack
    cfg = compose(overrides=[f"cell={cell}"], output_dir="/tmp/x")
    stack = build_stack(cfg.cell, 4, 8, num_layers=2, bidirectional=True)
    assert stack.cell == cfg.cell.type


@pytest.mark.parametrize("trainer", options("trainer"))
def test_trainers_compose(trainer, tmp_path):
    cfg = compose(overrides=[f"trainer={trainer}"], output_dir=str(tmp_path))
    assert cfg.trainer._target_ == "pytorch_lightning.Trainer"
    if trainer == "cpu" or (trainer == "gpu" and torch.cuda.is_available()):
        resolve_trainer_precision(cfg)  # what rnn-train does with trainer.precision=auto
        t = instantiate(cfg.trainer, logger=False, enable_progress_bar=False)
        assert t.max_epochs == cfg.trainer.max_epochs


@pytest.mark.parametrize("logger", options("logger"))
def test_loggers_instantiate(logger, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    cfg = compose(overrides=[f"logger={logger}"], output_dir=str(tmp_path))
    loggers = build_loggers(cfg)
    assert len(loggers) == {"none": 0, "csv": 1, "wandb": 1, "default": 2}[logger]


@pytest.mark.parametrize("callbacks", options("callbacks"))
def test_callbacks_instantiate(callbacks, tmp_path):
    cfg = compose(overrides=[f"callbacks={callbacks}"], output_dir=str(tmp_path))
    cbs = build_callbacks(cfg, has_logger=True)
    names = {type(c).__name__ for c in cbs}
    assert {"ModelCheckpoint", "EarlyStopping"} <= names


@pytest.mark.parametrize("task", options("task"))
def test_tasks_compose(task, tmp_path):
    cfg = compose(overrides=[f"task={task}"], output_dir=str(tmp_path))
    assert cfg.task.name == task and cfg.model._target_.startswith(f"rnnsuite.tasks.{task}.")
    assert cfg.monitor.metric.startswith("val/")


@pytest.mark.parametrize("data", options("data"))
def test_data_configs_instantiate(data, tmp_path):
    """Each data option builds its DataModule object (no fetch: that happens in prepare_data)."""
    cfg = compose(overrides=[f"data={data}"], output_dir=str(tmp_path))
    dm = instantiate(cfg.data, _convert_="all")
    assert hasattr(dm, "model_dims") and hasattr(dm, "baselines")


@pytest.mark.parametrize("experiment", options("experiment"))
def test_experiments_compose(experiment, tmp_path):
    cfg = compose(overrides=[f"experiment={experiment}"], output_dir=str(tmp_path))
    assert cfg.task.name


def compose_with_hydra(overrides):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    register_resolvers()
    with initialize_config_module(CONF_MODULE, version_base="1.3"):
        return hydra_compose("train", overrides=overrides, return_hydra_config=True)


@pytest.mark.parametrize("sweep", options("sweep"))
def test_sweeps_compose_with_the_projects_sweepers(sweep):
    cfg = compose_with_hydra([f"sweep={sweep}"])
    kind = "OptunaSweeper" if sweep == "optuna" else "GridSweeper"
    assert cfg.hydra.sweeper._target_ == f"hydra_plugins.rnnsuite_sweepers.sweepers.{kind}"


@pytest.mark.parametrize("task", options("task"))
def test_each_task_has_a_search_space_over_keys_its_config_has(task):
    from omegaconf import OmegaConf

    from rnnsuite.sweep.space import parse
    cfg = compose_with_hydra([f"task={task}", "sweep=optuna"])
    fixed, space = parse([f"{k}={v}" for k, v in cfg.hydra.sweeper.params.items()])
    assert len(space) >= 2
    for key in [*space, *(f.split("=", 1)[0] for f in fixed)]:  # a misspelt key would fail every trial
        assert OmegaConf.select(cfg, key) is not None, key


@pytest.mark.parametrize("name", ["eval", "predict"])
def test_eval_and_predict_configs_compose(name):
    cfg = compose(name, overrides=["ckpt=x.ckpt"])
    assert cfg.ckpt == "x.ckpt"


def test_deprecated_names_still_work_with_a_warning(capsys):
    from rnnsuite.config import rename_deprecated
    args = ["task=translation", "data.split_seed=3", "model.teacher_forcing=0.5", "+beam=2", "data.seed=1"]
    assert rename_deprecated(args) == ["task=translation", "data.seed=3", "model.teacher_forcing_start=0.5",
                                       "model.teacher_forcing_end=0.5", "+beam_size=2", "data.seed=1"]
    err = capsys.readouterr().err
    assert err.count("deprecated") == 3 and "use data.seed" in err
    cfg = compose(overrides=rename_deprecated(["task=translation", "data=dates_fixture", "model.enc_layers=2",
                                               "data.fixture_docs=9"]),
                  output_dir="/tmp/x")
    assert cfg.model.num_layers == 2 and cfg.data.fixture_size == 9


def test_one_name_per_idea_across_tasks(tmp_path):
    """The renamed options exist under their one name in every task that has them, and nowhere the old way."""
    old = {"split_seed", "fixture_docs", "fixture_days", "enc_layers", "dec_layers", "length_alpha", "teacher_forcing"}
    for task in options("task"):
        cfg = compose(overrides=[f"task={task}"], output_dir=str(tmp_path))
        keys = set(cfg.model) | set(cfg.data)
        assert not keys & old, (task, keys & old)
        if "beam_size" in cfg.model:
            assert "length_penalty" in cfg.model
        assert "num_layers" in cfg.model
    for data in options("data"):
        cfg = compose(overrides=[f"data={data}"], output_dir=str(tmp_path))
        assert not set(cfg.data) & old, data


def test_multinode_trainer_composes_for_torchrun_and_slurm(tmp_path):
    """trainer=multinode (documented in its file): DDP over num_nodes machines; instantiates here with one CPU
    process per node, as each node's launcher would start it."""
    from pytorch_lightning.strategies import DDPStrategy
    cfg = compose(overrides=["trainer=multinode", "trainer.accelerator=cpu", "trainer.devices=1"],
                  output_dir=str(tmp_path))
    resolve_trainer_precision(cfg)
    t = instantiate(cfg.trainer, logger=False, enable_progress_bar=False)
    assert isinstance(t.strategy, DDPStrategy) and t.num_nodes == 2 and t.world_size == 2
