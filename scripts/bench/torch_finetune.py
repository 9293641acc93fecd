#!/usr/bin/env python3
"""One fine-tuning epoch of a 784-500-500-2000-10 logistic network (softmax + cross-entropy) in
PyTorch on the CPU: SGD, momentum 0.9, lr 0.1, batch 100, shuffled each epoch, float32.
Weights N(0, 1/n_in), biases 0 (the same start as jax_finetune.py). Reports seconds per epoch and
the test error (%) after the last epoch. One warm-up step on a throwaway model runs untimed."""
import argparse
import time

import common
import flops
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.set_num_threads(int(common.THREADS))


def make_model(sizes, gen):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        lin = nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(b, a, generator=gen) / a ** 0.5)
            lin.bias.zero_()
        layers += [lin] if i == len(sizes) - 2 else [lin, nn.Sigmoid()]
    return nn.Sequential(*layers)


def make_opt(model, args):
    return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)


def train_step(model, opt, xb, yb, args):
    opt = opt or make_opt(model, args)
    loss = F.cross_entropy(model(xb), yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def main():
    p = common.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--layers", default="784-500-500-2000-10")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch", type=int, default=100)
    args = p.parse_args()
    sizes = flops.layer_sizes(args.layers)
    x, y = (torch.from_numpy(a) for a in common.load_mnist(args.data, "train", args.limit))
    xt, yt = (torch.from_numpy(a) for a in common.load_mnist(args.data, "test"))
    n = len(x) // args.batch * args.batch
    t0 = time.perf_counter()  # warm-up: one step on a throwaway model (first-call allocations)
    train_step(make_model(sizes, torch.Generator()), None, x[:args.batch], y[:args.batch], args)
    warmup_seconds = time.perf_counter() - t0
    seconds = []
    for r in range(args.repeats):
        gen = torch.Generator().manual_seed(args.seed)
        model = make_model(sizes, gen)
        opt = make_opt(model, args)
        t0 = time.perf_counter()
        for epoch in range(args.epochs):
            perm = torch.randperm(len(x), generator=gen)[:n]
            for idx in perm.view(-1, args.batch):
                loss = train_step(model, opt, x[idx], y[idx], args)
            common.log(f"epoch {epoch + 1} loss {loss.item():.4f}")
        seconds.append((time.perf_counter() - t0) / args.epochs)
        with torch.no_grad():
            test_error = 100.0 * (model(xt).argmax(1) != yt).float().mean().item()
        print(f"repeat {r + 1} seconds/epoch {seconds[-1]:.3f} test error {test_error:.2f}%", flush=True)
    common.emit({
        "work": "finetune", "peer": "torch", "layers": args.layers, "images": n, "epochs": args.epochs,
        "lr": args.lr, "seconds": seconds, "warmup_seconds": warmup_seconds,
        "gflops": flops.gflops(flops.finetune_epoch(n, sizes), float(np.median(seconds))),
        "final_error": test_error, "torch": torch.__version__,
    })


if __name__ == "__main__":
    main()
