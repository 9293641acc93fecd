#!/usr/bin/env python3
"""The CD-1 epoch of numpy_rbm.py (rbm.m) in PyTorch on the CPU: float32, torch.no_grad, fused
addmm / in-place updates. 784 -> 500 by default, batch 100, lr 0.1, weight cost 2e-4, momentum 0.5
(epochs 1-5) then 0.9, weights 0.1*randn, biases 0, one fixed random batch order."""
import argparse
import time

import common
import flops
import numpy as np
import torch

torch.set_num_threads(int(common.THREADS))
EPS, WEIGHTCOST = 0.1, 0.0002


@torch.no_grad()
def rbm(batchdata, numhid, maxepoch, gen):
    numbatches, numcases, numdims = batchdata.shape
    vishid = 0.1 * torch.randn(numdims, numhid, generator=gen)
    hidbiases, visbiases = torch.zeros(numhid), torch.zeros(numdims)
    vishidinc, hidbiasinc, visbiasinc = torch.zeros_like(vishid), torch.zeros(numhid), torch.zeros(numdims)
    poshidprobs = torch.empty(numcases, numhid)
    neghidprobs, rand = torch.empty_like(poshidprobs), torch.empty_like(poshidprobs)
    negdata = torch.empty(numcases, numdims)
    errs, secs = [], []
    a = EPS / numcases
    for epoch in range(1, maxepoch + 1):
        t0 = time.perf_counter()
        errsum = torch.zeros(())
        momentum = 0.9 if epoch > 5 else 0.5
        for data in batchdata:
            torch.addmm(hidbiases, data, vishid, out=poshidprobs).sigmoid_()
            poshidstates = (poshidprobs > rand.uniform_(generator=gen)).float()
            torch.addmm(visbiases, poshidstates, vishid.T, out=negdata).sigmoid_()
            torch.addmm(hidbiases, negdata, vishid, out=neghidprobs).sigmoid_()
            errsum += (data - negdata).square_().sum()
            # vishidinc = momentum*vishidinc + eps*((posprods - negprods)/numcases - weightcost*vishid)
            vishidinc.addmm_(data.T, poshidprobs, beta=momentum, alpha=a)
            vishidinc.addmm_(negdata.T, neghidprobs, alpha=-a).add_(vishid, alpha=-EPS * WEIGHTCOST)
            visbiasinc.mul_(momentum).add_(data.sum(0) - negdata.sum(0), alpha=a)
            hidbiasinc.mul_(momentum).add_(poshidprobs.sum(0) - neghidprobs.sum(0), alpha=a)
            vishid += vishidinc
            visbiases += visbiasinc
            hidbiases += hidbiasinc
        secs.append(time.perf_counter() - t0)
        errs.append(errsum.item())
        print(f"epoch {epoch:4d} error {errs[-1]:10.1f} seconds {secs[-1]:.3f}", flush=True)
    return errs, secs


def main():
    p = common.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--batch", type=int, default=100)
    args = p.parse_args()
    x, _ = common.load_mnist(args.data, "train", args.limit)
    n = len(x) // args.batch * args.batch
    seconds = []
    for r in range(args.repeats):
        gen = torch.Generator().manual_seed(args.seed)
        order = torch.randperm(len(x), generator=gen)[:n]
        batchdata = torch.from_numpy(x)[order].reshape(n // args.batch, args.batch, x.shape[1]).contiguous()
        errs, secs = rbm(batchdata, args.hidden, args.epochs, gen)
        seconds.append(sum(secs) / args.epochs)
    common.emit({
        "work": "cd1", "peer": "torch", "layers": f"{x.shape[1]}-{args.hidden}", "images": n,
        "epochs": args.epochs, "seconds": seconds,
        "gflops": flops.gflops(flops.cd1_epoch(n, x.shape[1], args.hidden), float(np.median(seconds))),
        "final_error": errs[-1], "torch": torch.__version__,
    })


if __name__ == "__main__":
    main()
