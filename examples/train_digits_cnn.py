"""Train a small CNN on scikit-learn's 8x8 digits with PyTorch and write it as ONNX.

The network (image 1x8x8, pixels / 16)::

    features.0  conv 3x3, 8 channels, padding 1      -> 8x8x8
    features.1  relu                                  (a crash site: 512 neurons)
    features.2  average pool 2x2                      -> 8x4x4
    classifier.0 flatten                              -> 128
    classifier.1 dense 128 -> 24
    classifier.2 tanh                                 (a crash site: 24 neurons)
    classifier.3 dense 24 -> 10 (logits)

Trained with softmax cross-entropy and Adam on the same stratified 75/25 split as
``train_digits.py`` (same seed, same split code).  Everything is driven by one seed
and torch runs on one thread in deterministic mode, so re-running the script on the
same machine writes the same weights.  The model goes to symft with
``symft.from_torch`` (which checks the conversion against torch) and out with
``symft.save_onnx`` (float32: the weights are float32 already, so the file holds
exactly the trained model).

Outputs (in ``--out-dir``, default: this script's folder):

* ``digits_cnn.onnx``: the model (crash sites ``image``, ``features.1``,
  ``classifier.2``, ``classifier.3``); its metadata records the accuracies;
* ``digit0_image.npy``: the first test image as a 1x8x8 array (for ``--input @...``).

Run::

    python examples/train_digits_cnn.py [--out-dir DIR] [--epochs N] [--seed S]

Requires scikit-learn, torch and onnx (``pip install -e ".[examples]"``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from train_digits import load_data, stratified_split  # noqa: E402  (the same data and split)


def build_model():
    from torch import nn

    class DigitsCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2))
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(128, 24), nn.Tanh(), nn.Linear(24, 10))

        def forward(self, image):
            return self.classifier(self.features(image))

    return DigitsCNN()


def train(model, X, y, epochs, seed, batch_size=64, lr=5e-3, weight_decay=1e-4):
    import torch

    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(Xt), generator=g)
        for start in range(0, len(Xt), batch_size):
            b = order[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(Xt[b]), yt[b])
            loss.backward()
            opt.step()
        if (epoch + 1) % 20 == 0 or epoch + 1 == epochs:
            print(f"epoch {epoch + 1:4d}  loss {loss.item():.4f}")
    model.eval()
    return model


def accuracy(model, X, y):
    import torch

    with torch.no_grad():
        return float((model(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy() == y).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the outputs (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=60, help="training epochs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of torch (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")

    import torch

    import symft

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)

    rng = np.random.default_rng(args.seed)
    X, y = load_data()
    train_idx, test_idx = stratified_split(y, 0.25, rng)
    images = X.reshape(-1, 1, 8, 8)
    Xtr, ytr, Xte, yte = images[train_idx], y[train_idx], images[test_idx], y[test_idx]

    model = train(build_model(), Xtr, ytr, args.epochs, args.seed)
    train_acc, test_acc = accuracy(model, Xtr, ytr), accuracy(model, Xte, yte)
    print(f"train accuracy {train_acc:.4f} ({len(Xtr)} images)")
    print(f"test accuracy  {test_acc:.4f} ({len(Xte)} images)")

    net = symft.from_torch(model, torch.as_tensor(Xte, dtype=torch.float32))
    net.name = "digits-cnn"
    net.metadata.update({"trained_by": "examples/train_digits_cnn.py", "seed": args.seed,
                         "train_accuracy": train_acc, "test_accuracy": test_acc,
                         "dataset": "sklearn.datasets.load_digits, pixels/16, images 1x8x8"})
    args.out_dir.mkdir(parents=True, exist_ok=True)
    symft.save_onnx(net, args.out_dir / "digits_cnn.onnx")
    np.save(args.out_dir / "digit0_image.npy", Xte[0])
    print(f"wrote {args.out_dir / 'digits_cnn.onnx'} (sites: {', '.join(net.sites)}) and digit0_image.npy "
          f"(label {yte[0]})")


if __name__ == "__main__":
    main()
