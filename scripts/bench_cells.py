"""Cell throughput, as ratios taken in one run (the machine is noisy; ratios hold, seconds don't).

Prints, per cell: fused vs step tokens/s (forward + backward), the fused cell under bf16 autocast vs float32
(what `trainer.precision=bf16-mixed` buys on this CPU), and the fused cell's achieved FLOP/s as a
fraction of this machine's measured matmul peak at the same sizes. Also: a Lightning training step vs a
bare PyTorch loop on the same model and batches.

    python scripts/bench_cells.py [--batch 64 --seq 50 --hidden 256 --repeats 5]
"""
import argparse
import time

import torch

from rnnsuite.cells import RecurrentStack

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def timed(fn, repeats):
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def matmul_peak(batch, hidden, gates, repeats):
    """FLOP/s of the recurrent matmul shape [B, H] x [H, G*H], the kernel an RNN step is made of."""
    a, b = torch.randn(batch, hidden), torch.randn(hidden, gates * hidden)
    n = 200
    s = timed(lambda: [a @ b for _ in range(n)], repeats)
    return 2 * batch * hidden * gates * hidden * n / s


def cell_rates(cell, args):
    x = torch.randn(args.batch, args.seq, args.hidden)
    out = {}
    for backend in ("fused", "step"):
        torch.manual_seed(0)
        stack = RecurrentStack(cell, args.hidden, args.hidden, backend=backend)

        def fwd_bwd(stack=stack):
            stack.zero_grad()
            y, _ = stack(x)
            y.sum().backward()
        out[backend] = args.batch * args.seq / timed(fwd_bwd, args.repeats)
        if backend == "fused":
            def fwd_bwd_bf16(stack=stack):
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    fwd_bwd(stack)
            out["fused_bf16"] = args.batch * args.seq / timed(fwd_bwd_bf16, args.repeats)
    # forward-only FLOPs of the fused kernel: input and recurrent matmuls, 2 * B * T * G*H * (I + H)
    stack = RecurrentStack(cell, args.hidden, args.hidden)
    with torch.no_grad():
        s = timed(lambda: stack(x), args.repeats)
    out["fused_fwd_flops"] = 2 * args.batch * args.seq * GATES[cell] * args.hidden * 2 * args.hidden / s
    return out


def lightning_vs_bare(args):
    """Seconds per epoch of one model: a bare loop vs pl.Trainer.fit (no logger, no checkpoint, no bar)."""
    import pytorch_lightning as pl
    from torch import nn

    class Model(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.rnn = RecurrentStack("lstm", 32, args.hidden)
            self.head = nn.Linear(args.hidden, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

        def training_step(self, batch, _):
            x, y = batch
            return nn.functional.mse_loss(self(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), 1e-3)

    data = torch.utils.data.TensorDataset(torch.randn(40 * args.batch, args.seq, 32), torch.randn(40 * args.batch, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch)
    model = Model()
    opt = model.configure_optimizers()

    def bare():
        for batch in loader:
            opt.zero_grad()
            model.training_step(batch, 0).backward()
            opt.step()

    def lightning():
        trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, accelerator="cpu", devices=1)
        trainer.fit(Model(), loader)
    return timed(bare, 2), timed(lightning, 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq", type=int, default=50)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
          f"seq {args.seq}, hidden {args.hidden}")
    print(f"{'cell':5s} {'fused tok/s':>12s} {'step tok/s':>11s} {'fused/step':>10s} {'bf16/fp32':>10s} "
          f"{'fused fwd / matmul peak':>24s}")
    for cell in ("rnn", "lstm", "gru"):
        r = cell_rates(cell, args)
        peak = matmul_peak(args.batch, args.hidden, GATES[cell], args.repeats)
        print(f"{cell:5s} {r['fused']:12.0f} {r['step']:11.0f} {r['fused'] / r['step']:10.2f} "
              f"{r['fused_bf16'] / r['fused']:10.2f} {r['fused_fwd_flops'] / peak:24.2f}")
    bare, light = lightning_vs_bare(args)
    print(f"lightning fit / bare loop, one epoch of 40 LSTM batches: {light / bare:.2f}")


if __name__ == "__main__":
    main()
