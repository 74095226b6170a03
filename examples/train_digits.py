"""Train a small sigmoid network on scikit-learn's digits, in pure NumPy.

The network is 64 -> 32 (sigmoid) -> 16 (sigmoid) -> 10 (linear output),
trained with softmax cross-entropy, minibatch Adam and a small L2 weight decay.
Everything is driven by one seed, so re-running the script on the same machine
writes byte-identical files.

Outputs (in ``--out-dir``, default: this script's folder):

* ``digits_sigmoid.json``: the network, in the ``symft.graph.network`` file format;
* ``digits_inputs.json``: ``{"inputs": [...], "labels": [...]}``, the first 20
  test images (64 floats each, pixels / 16) and their labels;
* ``digit0.csv``: one test image as one CSV row of 64 numbers.

Run::

    python examples/train_digits.py [--out-dir DIR] [--epochs N] [--seed S]

Requires scikit-learn (``pip install -e ".[examples]"``), only for the data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# One BLAS thread: the order of floating-point sums, hence the written weights,
# then does not depend on the machine's core count.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402  (after the thread settings)

HERE = Path(__file__).resolve().parent
WIDTHS = (64, 32, 16, 10)
ACTIVATIONS = ("sigmoid", "sigmoid", "linear")
N_KEEP = 20  # test images written to digits_inputs.json


def load_data():
    """Return ``(X, y)``: 1797 images as rows of 64 floats in [0, 1], labels 0..9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = np.asarray(digits.data, dtype=np.float64) / 16.0
    y = np.asarray(digits.target, dtype=np.int64)
    return X, y


# the split of symft.io.datasets.digits (so `symft accuracy --data digits` evaluates these test images)
from symft.io.datasets import stratified_split  # noqa: E402


def sigmoid(z):
    # Numerically stable in both tails.
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                    np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def init_params(rng):
    """Glorot-uniform weights (shape n_l x n_{l-1}), zero biases."""
    params = []
    for n_in, n_out in zip(WIDTHS[:-1], WIDTHS[1:]):
        limit = np.sqrt(6.0 / (n_in + n_out))
        W = rng.uniform(-limit, limit, size=(n_out, n_in))
        b = np.zeros(n_out)
        params.append([W, b])
    return params


def forward(params, X):
    """Return the list of layer outputs ``[y_0, y_1, ..., y_L]`` for a batch of rows."""
    ys = [X]
    for (W, b), act in zip(params, ACTIVATIONS):
        z = ys[-1] @ W.T + b
        ys.append(sigmoid(z) if act == "sigmoid" else z)
    return ys


def loss_and_grads(params, X, y, weight_decay):
    ys = forward(params, X)
    logits = ys[-1]
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    n = X.shape[0]
    loss = -np.mean(np.log(probs[np.arange(n), y] + 1e-300))
    loss += 0.5 * weight_decay * sum(float(np.sum(W * W)) for W, _ in params)

    delta = probs
    delta[np.arange(n), y] -= 1.0
    delta /= n  # dLoss/dz_L
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        W, _ = params[l]
        gW = delta.T @ ys[l] + weight_decay * W
        gb = delta.sum(axis=0)
        grads[l] = [gW, gb]
        if l > 0:
            s = ys[l]  # sigmoid output of layer l
            delta = (delta @ W) * s * (1.0 - s)
    return loss, grads


def accuracy(params, X, y):
    return float(np.mean(np.argmax(forward(params, X)[-1], axis=1) == y))


def train(X, y, rng, epochs, batch_size=64, lr=3e-3, weight_decay=1e-4):
    params = init_params(rng)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    m = [[np.zeros_like(a) for a in layer] for layer in params]
    v = [[np.zeros_like(a) for a in layer] for layer in params]
    t = 0
    for epoch in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            batch = order[start:start + batch_size]
            _, grads = loss_and_grads(params, X[batch], y[batch], weight_decay)
            t += 1
            for l, layer in enumerate(params):
                for k in range(2):
                    g = grads[l][k]
                    m[l][k] = beta1 * m[l][k] + (1 - beta1) * g
                    v[l][k] = beta2 * v[l][k] + (1 - beta2) * g * g
                    mhat = m[l][k] / (1 - beta1 ** t)
                    vhat = v[l][k] / (1 - beta2 ** t)
                    layer[k] = layer[k] - lr * mhat / (np.sqrt(vhat) + eps)
        if (epoch + 1) % 50 == 0 or epoch + 1 == epochs:
            loss, _ = loss_and_grads(params, X, y, weight_decay)
            print(f"epoch {epoch + 1:4d}  loss {loss:.4f}  train acc {accuracy(params, X, y):.4f}")
    return params


def network_document(params, seed, train_acc, test_acc):
    """The network as a ``symft.graph.network`` version-1 JSON object."""
    layers = [
        {"weights": W.tolist(), "bias": b.tolist(), "activation": act}
        for (W, b), act in zip(params, ACTIVATIONS)
    ]
    return {
        "format": "symft.network",
        "version": 1,
        "name": "digits-sigmoid-64-32-16-10",
        "input_names": [f"px{i}" for i in range(WIDTHS[0])],
        "output_names": [str(c) for c in range(WIDTHS[-1])],
        "layers": layers,
        "metadata": {
            "trained_by": "examples/train_digits.py",
            "seed": seed,
            "train_accuracy": train_acc,
            "test_accuracy": test_acc,
            "dataset": "sklearn.datasets.load_digits, pixels/16",
        },
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE,
                        help="where to write the outputs (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=300,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of numpy.random.default_rng (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")

    rng = np.random.default_rng(args.seed)
    X, y = load_data()
    train_idx, test_idx = stratified_split(y, 0.25, rng)
    Xtr, ytr, Xte, yte = X[train_idx], y[train_idx], X[test_idx], y[test_idx]

    params = train(Xtr, ytr, rng, args.epochs)
    train_acc = accuracy(params, Xtr, ytr)
    test_acc = accuracy(params, Xte, yte)
    print(f"train accuracy {train_acc:.4f} ({Xtr.shape[0]} images)")
    print(f"test accuracy  {test_acc:.4f} ({Xte.shape[0]} images)")

    out = args.out_dir
    os.makedirs(out, exist_ok=True)
    write_json(out / "digits_sigmoid.json",
               network_document(params, args.seed, train_acc, test_acc))
    write_json(out / "digits_inputs.json",
               {"inputs": Xte[:N_KEEP].tolist(), "labels": yte[:N_KEEP].tolist()})
    with open(out / "digit0.csv", "w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(repr(float(v)) for v in Xte[0]) + "\n")
    print(f"wrote digits_sigmoid.json, digits_inputs.json, digit0.csv to {out}")
    if test_acc < 0.93:
        print("warning: test accuracy below 0.93", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
