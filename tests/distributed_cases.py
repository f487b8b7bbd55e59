"""The estimators that tests/test_distributed.py trains under torchrun and in one process."""

import numpy as np
from sklearn.datasets import load_digits

from skae import (
    AdversarialAutoEncoder,
    AutoEncoder,
    ContractiveAutoEncoder,
    DenoisingAutoEncoder,
    StackedAutoEncoder,
    VariationalAutoEncoder,
)

SMALL = {"n_components": 4, "hidden_layer_sizes": (32,), "random_state": 0}


def digits() -> np.ndarray:
    return (load_digits().data / 16.0).astype(np.float32)


CASES = {
    # Compared with one process: a batch of 61 rows is split 30 + 31, weighted by rows.
    "seeded": lambda: AutoEncoder(
        n_components=8,
        hidden_layer_sizes=(64,),
        batch_size=61,
        max_epochs=40,
        validation_fraction=0.2,
        n_iter_no_change=2,
        tol=0.2,
        lr_schedule="constant",
        random_state=0,
    ),
    # random_state=None: rank 0's seed is everyone's. verbose=1: rank 0 alone prints.
    "unseeded": lambda: AutoEncoder(
        n_components=4, hidden_layer_sizes=(32,), max_epochs=3, verbose=1
    ),
    "partial_fit": lambda: AutoEncoder(**SMALL),
    "denoising": lambda: DenoisingAutoEncoder(**SMALL, max_epochs=2),
    "contractive": lambda: ContractiveAutoEncoder(**SMALL, max_epochs=2),
    "variational": lambda: VariationalAutoEncoder(**SMALL, max_epochs=2),
    "adversarial": lambda: AdversarialAutoEncoder(**SMALL, max_epochs=2),
    "stacked": lambda: StackedAutoEncoder(
        n_components=4, hidden_layer_sizes=(32, 16), pretrain_epochs=1, max_epochs=2
    ),
}
