"""Weight averaging of checkpoints of one shape."""
import torch


def average_state_dicts(state_dicts):
    """The element-wise mean of floating-point tensors over several state dicts with the same keys and shapes;
    other tensors (integer counters) are taken from the first."""
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if sd.keys() != first.keys() or any(sd[k].shape != first[k].shape for k in first):
            raise ValueError("the checkpoints differ in their parameters or shapes: they are not one model")
    return {k: torch.stack([sd[k] for sd in state_dicts]).mean(0) if v.is_floating_point() else v.clone()
            for k, v in first.items()}
