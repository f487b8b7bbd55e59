"""Greedy layer-wise pretraining on MNIST: the 784-1000-500-250-30 autoencoder.

    OMP_NUM_THREADS=1 python benchmarks/bench_stacked_mnist.py [--data DIR]
        [--pretrain-epochs 3] [--epochs 20] [--every 5] [--n-train 60000] [--arms both]
        [--lr-schedule constant] [--precision 32] [--optimizer adam] [--weight-decay 0]

Hinton & Salakhutdinov (2006, Fig. 2B) report held-out squared error per image
(the sum over the 784 pixels in [0, 1], averaged over the 10,000 test images)
of 3.00 for this architecture pretrained with RBMs and fine-tuned, against
13.87 for PCA with 30 components. Here both arms are the same
``StackedAutoEncoder`` (ReLU hidden layers, linear 30-unit code, sigmoid
output, binary cross-entropy, Adam lr=1e-3, batch 128, all training rows, no
early stopping); one is greedily pretrained with ``pretrain_epochs`` epochs per
layer (autoencoders, not RBMs), the other starts from random weights. The test
error is printed every ``--every`` fine-tuning epochs, so the arms are compared
at equal numbers of end-to-end epochs, with wall times. ``--lr-schedule
cosine`` anneals the learning rate to near zero over the epochs of each
stage, and ``--precision bf16-mixed`` trains in bfloat16 autocast.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from skorch.callbacks import Callback

from skae import StackedAutoEncoder
from skae._stacked import layer_stages
from skae.datasets import load_mnist

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def sse_per_image(X_hat, X):
    return float(np.mean(np.sum((X_hat - X) ** 2, axis=1)))


class TestError(Callback):
    """Test SSE/img of the deep network every ``every`` epochs (not during pretraining)."""

    def __init__(self, X_test, every):
        self.X_test, self.every = X_test, every
        self.errors, self.times = {}, {}

    def on_train_begin(self, net, **kwargs):
        self.start = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if len(layer_stages(net.module_.encoder)) == 1:  # a layer's shallow autoencoder
            return
        if epoch % self.every and epoch != net.max_epochs:
            return
        module = net.module_
        module.eval()
        X = torch.as_tensor(self.X_test, dtype=torch.float32)
        with torch.inference_mode():
            X_hat = torch.cat([module(xb)["reconstruction"] for xb in X.split(2048)]).numpy()
        module.train()
        self.errors[epoch] = sse_per_image(X_hat, self.X_test)
        self.times[epoch] = time.perf_counter() - self.start
        print(
            f"    epoch {epoch:3d}: test SSE/img {self.errors[epoch]:.3f} "
            f"({self.times[epoch]:.0f} s of fine-tuning)",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--pretrain-epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine"])
    parser.add_argument("--precision", default="32", choices=["32", "bf16-mixed"])
    parser.add_argument("--optimizer", default="adam", choices=["adam", "adamw"])
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument(
        "--arms",
        choices=["both", "random", "pretrained"],
        default="both",
        help="run only one arm (e.g. the two in parallel processes)",
    )
    args = parser.parse_args()

    X_train, _ = load_mnist(args.data, "train")
    X_test, _ = load_mnist(args.data, "test")
    X_train = X_train[: args.n_train]  # pixels already in [0, 1]
    print(
        f"MNIST: {len(X_train)} training rows, {len(X_test)} test rows, "
        f"torch threads {torch.get_num_threads()}"
    )

    pca = PCA(n_components=30, random_state=0).fit(X_train)
    print(
        "PCA-30 test SSE/img "
        f"{sse_per_image(pca.inverse_transform(pca.transform(X_test)), X_test):.3f}"
        " (paper 13.87)"
    )

    common = dict(
        n_components=30,
        hidden_layer_sizes=(1000, 500, 250),
        loss="bce",
        lr=1e-3,
        batch_size=128,
        max_epochs=args.epochs,
        validation_fraction=None,
        n_iter_no_change=None,
        lr_schedule=args.lr_schedule,
        precision=args.precision,
        optimizer=args.optimizer,
        weight_decay=args.weight_decay,
        random_state=args.seed,
    )
    arms = {
        "both": (0, args.pretrain_epochs),
        "random": (0,),
        "pretrained": (args.pretrain_epochs,),
    }
    for pretrain_epochs in arms[args.arms]:
        label = f"pretrain_epochs={pretrain_epochs}"
        print(label, flush=True)
        cb = TestError(X_test, args.every)
        sae = StackedAutoEncoder(
            pretrain_epochs=pretrain_epochs, callbacks=[("test", cb)], **common
        )
        start = time.perf_counter()
        sae.fit(X_train)
        total = time.perf_counter() - start
        tracker = dict(sae.net_.callbacks_)["test"]
        finetune = tracker.times[max(tracker.times)]
        print(
            f"  {label}: before fine-tuning (setup and pretraining) {total - finetune:.0f} s, "
            f"fine-tuning {finetune:.0f} s; "
            f"pretraining losses per layer {[round(v, 4) for v in sae.pretrain_losses_]}; "
            f"final train BCE {sae.loss_curve_[-1]:.4f}"
        )
        print(
            "  test SSE/img by fine-tuning epoch: "
            + ", ".join(f"{e}: {v:.3f}" for e, v in sorted(tracker.errors.items())),
            flush=True,
        )


if __name__ == "__main__":
    main()
