#!/usr/bin/env python3
"""One fine-tuning epoch of a 784-500-500-2000-10 logistic network (softmax + cross-entropy) in
JAX on the CPU: SGD with PyTorch's momentum convention (v = 0.9 v + g; p -= lr v), lr 0.1, batch
100, shuffled each epoch, float32, weights N(0, 1/n_in), biases 0. The update step is jitted (the
minibatch gather included); a warm-up step compiles it outside the timing and its time is reported
as compile_seconds. Reports seconds per epoch and the test error (%) after the last epoch."""
import argparse
import time

import common  # sets XLA_FLAGS before jax is imported
import flops
import jax
import jax.numpy as jnp
import numpy as np


def init(key, sizes):
    keys = jax.random.split(key, len(sizes) - 1)
    return [(jax.random.normal(k, (a, b), jnp.float32) / a ** 0.5, jnp.zeros(b, jnp.float32))
            for k, a, b in zip(keys, sizes, sizes[1:])]


def forward(params, x):
    for w, b in params[:-1]:
        x = jax.nn.sigmoid(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def loss_fn(params, x, y):
    logp = jax.nn.log_softmax(forward(params, x))
    return -jnp.take_along_axis(logp, y[:, None], axis=1).mean()


def make_step(lr, mu):
    @jax.jit
    def step(params, vel, X, Y, idx):
        loss, g = jax.value_and_grad(loss_fn)(params, X[idx], Y[idx])
        vel = jax.tree_util.tree_map(lambda v, gi: mu * v + gi, vel, g)
        params = jax.tree_util.tree_map(lambda p, v: p - lr * v, params, vel)
        return params, vel, loss
    return step


@jax.jit
def errors(params, x, y):
    return (forward(params, x).argmax(1) != y).sum()


def main():
    p = common.add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--layers", default="784-500-500-2000-10")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch", type=int, default=100)
    args = p.parse_args()
    sizes = flops.layer_sizes(args.layers)
    xs, ys = common.load_mnist(args.data, "train", args.limit)
    xt, yt = common.load_mnist(args.data, "test")
    X, Y = jnp.asarray(xs), jnp.asarray(ys.astype(np.int32))
    Xt, Yt = jnp.asarray(xt), jnp.asarray(yt.astype(np.int32))
    n = len(xs) // args.batch * args.batch
    step = make_step(np.float32(args.lr), np.float32(args.momentum))
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()  # warm-up: compile the step and the test-error function
    params = init(jax.random.PRNGKey(args.seed), sizes)
    vel = jax.tree_util.tree_map(jnp.zeros_like, params)
    jax.block_until_ready(step(params, vel, X, Y, np.arange(args.batch, dtype=np.int32)))
    compile_seconds = time.perf_counter() - t0
    errors(params, Xt, Yt).block_until_ready()

    seconds = []
    for r in range(args.repeats):
        params = init(jax.random.PRNGKey(args.seed), sizes)
        vel = jax.tree_util.tree_map(jnp.zeros_like, params)
        t0 = time.perf_counter()
        for epoch in range(args.epochs):
            for idx in rng.permutation(len(xs))[:n].astype(np.int32).reshape(-1, args.batch):
                params, vel, loss = step(params, vel, X, Y, idx)
            common.log(f"epoch {epoch + 1} loss {float(loss):.4f}")  # also waits for the epoch
        seconds.append((time.perf_counter() - t0) / args.epochs)
        test_error = 100.0 * int(errors(params, Xt, Yt)) / len(xt)
        print(f"repeat {r + 1} seconds/epoch {seconds[-1]:.3f} test error {test_error:.2f}%", flush=True)
    common.emit({
        "work": "finetune", "peer": "jax", "layers": args.layers, "images": n, "epochs": args.epochs,
        "lr": args.lr, "seconds": seconds, "compile_seconds": compile_seconds,
        "gflops": flops.gflops(flops.finetune_epoch(n, sizes), float(np.median(seconds))),
        "final_error": test_error, "jax": jax.__version__,
    })


if __name__ == "__main__":
    main()
