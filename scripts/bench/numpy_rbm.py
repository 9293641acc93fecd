#!/usr/bin/env python3
"""Faithful NumPy (float32) port of Hinton & Salakhutdinov's rbm.m: CD-1, greedy layer-wise.

Per minibatch, exactly as rbm.m: hidden probabilities from the data; binary hidden states sampled
from them drive the reconstruction; the reconstruction is the visible probabilities; the negative
statistics use those and the hidden probabilities they imply. lr 0.1 (epsilonw/vb/hb), weight cost
2e-4 on weights, momentum 0.5 for epochs 1-5 then 0.9, weights 0.1*randn, biases 0, minibatches of
100 in one fixed random order (makebatches.m). Prints each epoch's summed squared reconstruction
error; with --layers each next RBM trains on the previous one's batchposhidprobs.
"""
import argparse
import ctypes
import glob
import os
import time

import common
import flops
import numpy as np

EPSILONW = EPSILONVB = EPSILONHB = 0.1
WEIGHTCOST = 0.0002
INITIALMOMENTUM, FINALMOMENTUM = 0.5, 0.9


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rbm(batchdata, numhid, maxepoch, rng, label=""):
    """batchdata: (numbatches, numcases, numdims) float32. Returns the weights, biases, the last
    epoch's batchposhidprobs, the per-epoch errors and the per-epoch seconds."""
    numbatches, numcases, numdims = batchdata.shape
    f32 = np.float32
    vishid = (0.1 * rng.standard_normal((numdims, numhid))).astype(f32)
    hidbiases = np.zeros((1, numhid), f32)
    visbiases = np.zeros((1, numdims), f32)
    vishidinc = np.zeros((numdims, numhid), f32)
    hidbiasinc = np.zeros((1, numhid), f32)
    visbiasinc = np.zeros((1, numdims), f32)
    batchposhidprobs = np.zeros((numbatches, numcases, numhid), f32)
    epsilonw, epsilonvb, epsilonhb, weightcost = f32(EPSILONW), f32(EPSILONVB), f32(EPSILONHB), f32(WEIGHTCOST)
    errs, secs = [], []
    for epoch in range(1, maxepoch + 1):
        t0 = time.perf_counter()
        errsum = 0.0
        momentum = f32(FINALMOMENTUM if epoch > 5 else INITIALMOMENTUM)
        for batch in range(numbatches):
            # positive phase
            data = batchdata[batch]
            poshidprobs = sigmoid(data @ vishid + hidbiases)
            batchposhidprobs[batch] = poshidprobs
            posprods = data.T @ poshidprobs
            poshidact = poshidprobs.sum(0, keepdims=True)
            posvisact = data.sum(0, keepdims=True)
            poshidstates = (poshidprobs > rng.random((numcases, numhid), f32)).astype(f32)
            # negative phase
            negdata = sigmoid(poshidstates @ vishid.T + visbiases)
            neghidprobs = sigmoid(negdata @ vishid + hidbiases)
            negprods = negdata.T @ neghidprobs
            neghidact = neghidprobs.sum(0, keepdims=True)
            negvisact = negdata.sum(0, keepdims=True)
            errsum += float(((data - negdata) ** 2).sum())
            # updates
            vishidinc = momentum * vishidinc + epsilonw * ((posprods - negprods) / f32(numcases) - weightcost * vishid)
            visbiasinc = momentum * visbiasinc + (epsilonvb / f32(numcases)) * (posvisact - negvisact)
            hidbiasinc = momentum * hidbiasinc + (epsilonhb / f32(numcases)) * (poshidact - neghidact)
            vishid = vishid + vishidinc
            visbiases = visbiases + visbiasinc
            hidbiases = hidbiases + hidbiasinc
        secs.append(time.perf_counter() - t0)
        errs.append(errsum)
        print(f"epoch {epoch:4d} rbm {label} error {errsum:10.1f} seconds {secs[-1]:.3f}", flush=True)
    return vishid, hidbiases, visbiases, batchposhidprobs, errs, secs


def blas_core():
    """Name of the OpenBLAS kernel NumPy's bundled library picked (None if not found)."""
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "libscipy_openblas*.so")):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            if hasattr(lib, name):
                fn = getattr(lib, name)
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def main():
    p = common.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--layers", default="784-500", help="e.g. 784-500-500-2000 for greedy pretraining")
    p.add_argument("--batch", type=int, default=100)
    args = p.parse_args()
    np.seterr(over="ignore")  # exp(-x) -> inf gives sigmoid 0, as in Matlab
    sizes = flops.layer_sizes(args.layers)
    x, _ = common.load_mnist(args.data, "train", args.limit)
    n = len(x) // args.batch * args.batch
    if x.shape[1] != sizes[0]:
        p.error(f"data has {x.shape[1]} inputs, --layers starts with {sizes[0]}")

    seconds, errors = [], []
    for r in range(args.repeats):
        rng = np.random.default_rng(args.seed)
        order = rng.permutation(len(x))[:n]  # makebatches.m: one fixed random order
        batchdata = x[order].reshape(n // args.batch, args.batch, sizes[0])
        total, layer_errs = 0.0, []
        for nvis, nhid in zip(sizes, sizes[1:]):
            *_, batchdata, errs, secs = rbm(batchdata, nhid, args.epochs, rng, f"{nvis}-{nhid}")
            total += sum(secs)
            layer_errs.append(errs[-1])
        seconds.append(total / args.epochs)  # seconds per (greedy) epoch
        errors = layer_errs
    flop = flops.pretrain_epoch(n, sizes)
    med = float(np.median(seconds))
    common.emit({
        "work": "cd1" if len(sizes) == 2 else "pretrain", "peer": "numpy", "layers": args.layers,
        "images": n, "epochs": args.epochs, "seconds": seconds, "gflops": flops.gflops(flop, med),
        "final_error": errors[-1], "layer_errors": errors,
        "numpy": np.__version__, "blas_core": blas_core(),
    })


if __name__ == "__main__":
    main()
