"""Vanishing and exploding gradients, made visible: the gradient norm of the loss w.r.t. each hidden state."""
import torch


def grad_norm_through_time(stack, x, loss_of_last):
    """||dL/dh_t|| (mean over the batch) for every step t of a unidirectional stack's top layer.

    The stack is stepped with its textbook equations so that each h_t is a node of the graph; the loss is
    computed from the last output only, so the gradient reaching h_t has travelled T - t steps back.
    """
    was_training = stack.training
    stack.eval()
    state, hs = None, []
    with torch.enable_grad():
        for t in range(x.size(1)):
            h, state = stack.step(x[:, t], state)
            h.retain_grad()
            hs.append(h)
        loss_of_last(hs[-1]).backward()
    stack.train(was_training)
    return torch.stack([h.grad.norm(dim=-1).mean() for h in hs]).detach().cpu()


def plot_grad_norms(curves, out_png, title="gradient norm through time"):
    """curves: {label: norms per step}. Log scale: vanishing shows as a straight fall to the left."""
    from ..plots import figure, save_figure
    fig, ax = figure(figsize=(6.5, 3.8))
    for label, norms in curves.items():
        ax.semilogy(range(len(norms)), [max(float(v), 1e-30) for v in norms], label=label)
    ax.set_xlabel("time step t (loss at the last step)")
    ax.set_ylabel("||dL/dh_t||")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return save_figure(fig, out_png)
