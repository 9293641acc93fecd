#!/usr/bin/env python3
"""DeepBelief networks in PyTorch, both ways.

    from torch_model import load_dbn, save_dbn
    model = load_dbn("model.safetensors")          # torch.nn.Sequential
    logits = model(raw_pixels)                     # uint8 or float 0..255, shape [N, 784]
    save_dbn(model, "back.safetensors")            # dbn evaluate / dbn finetune read it

`load_dbn` rebuilds a network written by `dbn train` or `dbn finetune`: a `ScaleInputs(1/255)`
module first (dbn divides u8 IDX pixels by 255), then `torch.nn.Linear` layers with the file's
hidden activation between them. The last Linear gives logits; the file's output is a softmax
over them (apply `torch.softmax(logits, 1)` for probabilities). dbn stores weights as
[fan_in, fan_out] (`layers.{i}.weight`); `torch.nn.Linear.weight` is [out, in], so each weight is
transposed on the way in and out.

`save_dbn` writes the reverse for a Sequential of Linear layers and one kind of activation
(Sigmoid, Tanh, ReLU, LeakyReLU(0.01), ELU(1.0)), optionally starting with ScaleInputs and ending
with Softmax/LogSoftmax (both dropped: dbn's output is a softmax). `dbn` also reads a plain
`safetensors.torch.save_file(model.state_dict(), path, metadata={"activation": "relu"})`.

Command line (used by the Swift test `TorchInteropTests`):
    torch_model.py errors MODEL DATA_DIR
prints one JSON line with the test errors of MODEL (load_dbn) on DATA_DIR's t10k files;
    torch_model.py roundtrip MODEL DATA_DIR OUT_DIR
loads MODEL with load_dbn, writes its test error on DATA_DIR's t10k files, trains a small torch
network for a few steps, and writes OUT_DIR/loaded.safetensors (save_dbn of the loaded model),
OUT_DIR/torch.safetensors (save_dbn of the torch-trained model) and
OUT_DIR/state_dict.safetensors (its plain state_dict), printing one JSON line of test errors.
"""

import gzip
import json
import os
import struct
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

_ACTIVATIONS = {
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "leaky-relu": lambda: torch.nn.LeakyReLU(0.01),
    "elu": lambda: torch.nn.ELU(1.0),
}


class Maxout(torch.nn.Module):
    """Each unit is the maximum of `pieces` adjacent columns (dbn's maxout layout: unit u's
    pieces in columns u*pieces ..< (u+1)*pieces)."""

    def __init__(self, pieces):
        super().__init__()
        self.pieces = pieces

    def forward(self, x):
        return x.view(x.shape[0], -1, self.pieces).amax(dim=-1)

    def extra_repr(self):
        return f"pieces={self.pieces}"


class ScaleInputs(torch.nn.Module):
    """Multiplies the input by a constant (1/255: u8 pixels to [0, 1], as dbn reads IDX)."""

    def __init__(self, factor=1.0 / 255.0):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x.to(torch.float32) * self.factor

    def extra_repr(self):
        return f"factor={self.factor!r}"


def load_dbn(path, scale_inputs=True):
    """The network in a dbn model file as a torch.nn.Sequential (logits out).

    Batch-normalised files (metadata batch_norm "true") give Linear(bias=False) followed by
    BatchNorm1d (eps 1e-5, weight = bn_weight, bias = the layer's bias, running statistics from
    the file; call .eval() to use them, as dbn evaluates). Maxout files give a Maxout module of
    maxout_pieces pieces after each hidden layer."""
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        if meta.get("kind") != "network":
            raise ValueError(f"{path}: holds a {meta.get('kind', 'file without a dbn kind')}, expected a network (dbn train or dbn finetune)")
        sizes = json.loads(meta["layer_sizes"])
        activation = meta.get("activation", "sigmoid")
        if activation not in _ACTIVATIONS and activation != "maxout":
            raise ValueError(f"{path}: activation '{activation}' has no torch module here")
        pieces = int(meta.get("maxout_pieces", "2")) if activation == "maxout" else 1
        batch_norm = meta.get("batch_norm") == "true"
        modules = [ScaleInputs()] if scale_inputs else []
        for i in range(len(sizes) - 1):
            hidden = i < len(sizes) - 2
            width = sizes[i + 1] * (pieces if hidden else 1)
            weight = f.get_tensor(f"layers.{i}.weight")  # [fan_in, fan_out]
            bias = f.get_tensor(f"layers.{i}.bias")
            normalized = batch_norm and hidden
            linear = torch.nn.Linear(sizes[i], width, bias=not normalized)
            with torch.no_grad():
                linear.weight.copy_(weight.t())
                if not normalized:
                    linear.bias.copy_(bias)
            modules.append(linear)
            if normalized:  # the layer's bias is the shift beta
                norm = torch.nn.BatchNorm1d(width, eps=1e-5, momentum=0.1)
                with torch.no_grad():
                    norm.weight.copy_(f.get_tensor(f"layers.{i}.bn_weight"))
                    norm.bias.copy_(bias)
                    norm.running_mean.copy_(f.get_tensor(f"layers.{i}.bn_running_mean"))
                    norm.running_var.copy_(f.get_tensor(f"layers.{i}.bn_running_var"))
                modules.append(norm)
            if hidden:
                modules.append(Maxout(pieces) if activation == "maxout" else _ACTIVATIONS[activation]())
    return torch.nn.Sequential(*modules).eval()  # evaluation mode: batch norm's running statistics


def _activation_name(module):
    if isinstance(module, torch.nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, torch.nn.Tanh):
        return "tanh"
    if isinstance(module, torch.nn.ReLU):
        return "relu"
    if isinstance(module, torch.nn.LeakyReLU) and abs(module.negative_slope - 0.01) < 1e-12:
        return "leaky-relu"
    if isinstance(module, torch.nn.ELU) and module.alpha == 1.0:
        return "elu"
    return None


def save_dbn(module, path, input_shape=None):
    """Writes a Sequential of Linear layers and one activation as a dbn network file."""
    linears, activations = [], set()
    children = list(module.children()) if isinstance(module, torch.nn.Sequential) else [module]
    for position, child in enumerate(children):
        if isinstance(child, torch.nn.Linear):
            linears.append(child)
        elif isinstance(child, ScaleInputs):
            if position != 0 or abs(child.factor - 1.0 / 255.0) > 1e-12:
                raise ValueError("ScaleInputs must come first with factor 1/255 (dbn reads u8 pixels as value/255)")
        elif isinstance(child, (torch.nn.Softmax, torch.nn.LogSoftmax)) and position == len(children) - 1:
            pass
        elif isinstance(child, (torch.nn.Dropout, torch.nn.Identity)):
            pass
        else:
            name = _activation_name(child)
            if name is None:
                raise ValueError(f"save_dbn: module {position} ({child}) has no dbn equivalent")
            activations.add(name)
    if not linears:
        raise ValueError("save_dbn: no torch.nn.Linear layer")
    if len(activations) > 1:
        raise ValueError(f"save_dbn: dbn networks use one hidden activation, found {sorted(activations)}")
    sizes = [linears[0].in_features] + [layer.out_features for layer in linears]
    for a, b in zip(linears, linears[1:]):
        if a.out_features != b.in_features:
            raise ValueError(f"save_dbn: a Linear with {a.out_features} outputs feeds one with {b.in_features} inputs")
    tensors = {}
    for i, layer in enumerate(linears):
        tensors[f"layers.{i}.weight"] = layer.weight.detach().t().contiguous().to(torch.float32)
        bias = layer.bias.detach() if layer.bias is not None else torch.zeros(layer.out_features)
        tensors[f"layers.{i}.bias"] = bias.contiguous().to(torch.float32)
    meta = {
        "format_version": "1",
        "kind": "network",
        "layer_sizes": json.dumps(sizes, separators=(",", ":")),
        "activation": activations.pop() if activations else "sigmoid",
        "output": "softmax",
        "created_by": "torch_model.py save_dbn (torch " + torch.__version__ + ")",
        "init": "torch",
    }
    if input_shape is not None:
        meta["input_shape"] = json.dumps(list(input_shape), separators=(",", ":"))
    save_file(tensors, path, metadata=meta)


def read_idx(path):
    """An IDX file (optionally gzipped) as a numpy array."""
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: expected an IDX file of u8")
    shape = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def _find(folder, stem):
    for name in (stem, stem.replace("-idx", ".idx")):
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.exists(path):
                return path
    raise FileNotFoundError(f"{folder}: no {stem}[.gz]")


def test_errors(model, images, labels):
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)
    return int((predicted != labels).sum())


def _test_set(data_dir):
    test_x = torch.from_numpy(read_idx(_find(data_dir, "t10k-images-idx3-ubyte")).reshape(10000, -1).copy())
    test_y = torch.from_numpy(read_idx(_find(data_dir, "t10k-labels-idx1-ubyte")).astype(np.int64))
    return test_x, test_y


def _errors(model_path, data_dir):
    test_x, test_y = _test_set(data_dir)
    print(json.dumps({"loaded_errors": test_errors(load_dbn(model_path), test_x, test_y)}))


def _roundtrip(model_path, data_dir, out_dir):
    test_x, test_y = _test_set(data_dir)
    loaded = load_dbn(model_path)
    result = {"loaded_errors": test_errors(loaded, test_x, test_y)}
    save_dbn(loaded, os.path.join(out_dir, "loaded.safetensors"), input_shape=[28, 28])

    # A network trained in torch (a few hundred steps on 2,000 images), then handed to dbn.
    torch.manual_seed(7)
    train_x = torch.from_numpy(read_idx(_find(data_dir, "train-images-idx3-ubyte"))[:2000].reshape(2000, -1).copy())
    train_y = torch.from_numpy(read_idx(_find(data_dir, "train-labels-idx1-ubyte"))[:2000].astype(np.int64))
    model = torch.nn.Sequential(ScaleInputs(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(200):
        rows = slice((step * 100) % 2000, (step * 100) % 2000 + 100)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(train_x[rows]), train_y[rows])
        loss.backward()
        optimizer.step()
    result["torch_errors"] = test_errors(model, test_x, test_y)
    save_dbn(model, os.path.join(out_dir, "torch.safetensors"), input_shape=[28, 28])
    # The plain state_dict (indices 1 and 3: ScaleInputs and ReLU have no parameters).
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              os.path.join(out_dir, "state_dict.safetensors"), metadata={"activation": "relu"})
    result["state_dict_names"] = sorted(model.state_dict().keys())
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "roundtrip":
        _roundtrip(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "errors":
        _errors(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: torch_model.py roundtrip MODEL DATA_DIR OUT_DIR | errors MODEL DATA_DIR")
