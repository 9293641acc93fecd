"""FLOP counts shared by the peers and compare.py: 2*m*n*k for every GEMM of the algorithm.

Only matrix products are counted (no sigmoid, sampling, bias or update work), for full minibatches
(a trailing partial batch is dropped by every implementation).
"""


def layer_sizes(spec):
    """'784-500-500-2000' -> [784, 500, 500, 2000]."""
    return [int(s) for s in str(spec).split("-")]


def cd1_epoch(n, nvis, nhid):
    """One CD-1 epoch over n images: per minibatch of b, five b x nvis x nhid products
    (v0 W, h0 W^T, v1 W, v0^T h0, v1^T h1), so 5 * 2*b*nvis*nhid per batch."""
    return 5 * 2 * n * nvis * nhid


def pretrain_epoch(n, sizes):
    """One greedy epoch: one CD-1 epoch per RBM of the stack, each on n cases."""
    return sum(cd1_epoch(n, a, b) for a, b in zip(sizes, sizes[1:]))


def finetune_epoch(n, sizes):
    """One backprop epoch of an MLP with layer sizes s0..sL over n images:
    forward  sum_l 2*n*s_l*s_{l+1};
    deltas   the same products except the first layer's (no gradient w.r.t. the input);
    weight gradients  sum_l 2*n*s_l*s_{l+1}.
    """
    products = [a * b for a, b in zip(sizes, sizes[1:])]
    return 2 * n * (3 * sum(products) - products[0])


WORKS = {
    "cd1": lambda n: cd1_epoch(n, 784, 500),
    "pretrain": lambda n: pretrain_epoch(n, [784, 500, 500, 2000]),
    "finetune": lambda n: finetune_epoch(n, [784, 500, 500, 2000, 10]),
}


def work_flops(work, n, batch=100):
    """FLOPs of one epoch of a named work item over the first n images (full batches only)."""
    return WORKS[work](n // batch * batch)


def gflops(flop, seconds):
    return flop / seconds / 1e9 if seconds and seconds > 0 else None
