"""`rnn-reproduce STUDY`: run a paper-style study (cells × its axis × seeds) and write results/STUDY.md / .png.

    rnn-reproduce --list                      the studies, their grids and budgets
    rnn-reproduce vanishing                   run what is left of the grid, then write results/vanishing.md
    rnn-reproduce vanishing --quick           a tiny grid on fixtures, 2 seeds, in seconds: checks the pipeline
    rnn-reproduce copy --seeds 5 --out DIR    more seeds, another folder
    rnn-reproduce tbptt --jobs 2 --wrap "nice -n 10"   two runs at a time, each a subprocess under the wrapper
    rnn-reproduce tbptt --max-runs 4          four more runs, then the report: a long study in chunks

Finished runs (their results.json exists) are never run again: stop a study at any point, and the same command
continues it; a run that the stop cut off part-way resumes from its checkpoints/last.ckpt (written at each epoch's
end) instead of starting again. The report is rebuilt from every finished run each time.
"""
import argparse
import contextlib
import shlex
import sys

from ..studies import STUDIES
from ..studies.base import COMMON, reproduce
from ..sweep.space import override
from ..config import compose


def run_here(run):
    """Compose the run's config as rnn-train would and train in this process (fast for tiny runs)."""
    from .train import train
    resume = run.resume
    cfg = compose("train", run.overrides + resume + COMMON + [override("paths.output_dir", str(run.dir))])
    with open(run.dir / "train.log", "a" if resume else "w") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        train.__wrapped__(cfg)  # the undecorated function: an error raises here instead of exiting


def parser():
    p = argparse.ArgumentParser(prog="rnn-reproduce", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("study", nargs="?", help="one of: " + ", ".join(STUDIES))
    p.add_argument("--list", action="store_true", help="list the studies")
    p.add_argument("--quick", action="store_true", help="a tiny grid on generated fixtures, 2 seeds (seconds): "
                                                        "checks the pipeline, not the results")
    p.add_argument("--seeds", type=int, default=3, help="seeds per grid cell (at least 3: the tables give mean ± std)")
    p.add_argument("--out", default=None, help="folder of STUDY.md/.png/.json and runs/ "
                                               "(default: results, or multirun/reproduce-quick with --quick)")
    p.add_argument("--jobs", type=int, default=1, help="runs at a time (each in its own process)")
    p.add_argument("--wrap", default=None, help="a command to run each run under, e.g. a CPU-slot runner")
    p.add_argument("--max-runs", type=int, default=None, help="run at most this many of the unfinished runs, "
                                                             "then write the report (a study in chunks)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.list:
        from ..studies.verdict import read_verdicts
        for name, study in STUDIES.items():
            n = len(study.runs(args.seeds))
            found = read_verdicts(f"{args.out or 'results'}/{name}.json")  # the committed report's verdicts
            said = ("no committed verdicts" if found is None else
                    ", ".join(f"{sum(v['verdict'] == k for v in found)} {k}"
                              for k in ("reproduced", "not reproduced", "inconclusive")))
            print(f"{name:11s} {n:3d} runs  {study.title}\n{'':17s}budget: {study.budget}\n{'':17s}verdicts: {said}")
        return 0
    if args.study not in STUDIES:
        print(f"error: unknown study {args.study!r}; choose one of {', '.join(STUDIES)} (rnn-reproduce --list)"
              if args.study else "error: name a study (rnn-reproduce --list shows them)", file=sys.stderr)
        return 2
    if args.seeds < 3 and not args.quick:
        print(f"error: --seeds must be at least 3 (the tables report mean ± std over seeds), got {args.seeds}",
              file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"error: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    out = args.out or ("multirun/reproduce-quick" if args.quick else "results")
    command = " ".join(["rnn-reproduce", args.study] + (["--quick"] if args.quick else [])
                       + ([f"--seeds {args.seeds}"] if args.seeds != 3 else [])
                       + ([f"--out {shlex.quote(args.out)}"] if args.out else []))
    reproduce(STUDIES[args.study], out, seeds=args.seeds, quick=args.quick,
              wrap=shlex.split(args.wrap) if args.wrap else None, jobs=args.jobs, max_runs=args.max_runs,
              command=command, run_here=run_here)
    return 0


if __name__ == "__main__":
    sys.exit(main())
