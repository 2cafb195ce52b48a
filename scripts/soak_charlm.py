"""Soak: does a long charlm run hold its memory? Runs `rnn-train task=charlm` for `--minutes` of training
(trainer.max_time) and samples the training process's resident memory every `--every` seconds from /proc:
RSS now and its peak so far (VmHWM). Writes the samples as CSV and prints one line per minute and the verdict:
the peak RSS at the end over the peak at minute `--warmup` (flat: within 5%).

    python scripts/soak_charlm.py --minutes 30 --out soak.csv [extra rnn-train overrides ...]

Not a test: it takes as long as it says. Linux only (/proc).
"""
import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path


def memory_kib(pid):
    """(VmRSS, VmHWM) in KiB of a live process, or None once it is gone."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="training time (trainer.max_time)")
    ap.add_argument("--warmup", type=float, default=5.0, help="minute from which the peak must stay flat")
    ap.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--out", default="soak_charlm.csv")
    ap.add_argument("--run-dir", default="outputs/soak_charlm")
    ap.add_argument("overrides", nargs="*", help="extra rnn-train overrides")
    args = ap.parse_args()

    m = int(args.minutes)
    max_time = f"00:{m // 60:02d}:{m % 60:02d}:{round((args.minutes - m) * 60):02d}"
    cmd = [str(Path(sys.executable).parent / "rnn-train"), "task=charlm", f"trainer.max_time={max_time}",
           "trainer.max_epochs=100", "logger=csv", "callbacks=quiet", "trainer.enable_progress_bar=false",
           f"hydra.run.dir={args.run_dir}", *args.overrides]
    print(" ".join(cmd), flush=True)
    log = open(Path(args.out).with_suffix(".log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    start, samples = time.time(), []
    while proc.poll() is None:
        mem = memory_kib(proc.pid)
        if mem is not None:
            samples.append((round((time.time() - start) / 60, 3), *mem))
        time.sleep(args.every)
    log.close()
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["minute", "rss_mib", "peak_rss_mib"])
        w.writerows((t, round(r / 1024, 1), round(p / 1024, 1)) for t, r, p in samples)

    print(f"exit code {proc.returncode}; {len(samples)} samples -> {args.out}")
    print("minute  rss MiB  peak MiB")
    shown = -1
    for t, rss, peak in samples:
        if int(t) > shown:
            shown = int(t)
            print(f"{t:6.1f}  {rss / 1024:7.1f}  {peak / 1024:8.1f}")
    after = [s for s in samples if s[0] >= args.warmup]
    if not after:
        print("the run ended before the warm-up did: nothing to judge")
        return 1
    first, last = after[0][2], after[-1][2]
    growth = last / first - 1
    print(f"peak RSS at minute {after[0][0]:.1f}: {first / 1024:.1f} MiB; at minute {after[-1][0]:.1f}: "
          f"{last / 1024:.1f} MiB ({100 * growth:+.2f}%): {'flat (within 5%)' if growth <= 0.05 else 'GROWING'}")
    return 0 if proc.returncode == 0 and growth <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
