"""Sequence autoencoders on the UCR/UEA collections and the UCR anomaly archive.

Three measurements, each printed as a table (``--part``):

- ``features``: codes as features. For each collection, a
  ``SequenceAutoEncoder`` is fitted on the TRAIN cases without labels; a
  ``LogisticRegression`` trained on the TRAIN codes is scored (accuracy) on
  the TEST codes, beside a ``LogisticRegression`` on PCA codes of the same
  size (of the flattened series) and 1-NN with Euclidean distance on the
  raw series. The autoencoder's accuracy and fit time are means over
  ``--seeds`` seeds.
- ``oneclass``: one-class detection. For each collection and each class in
  turn, the detectors are fitted on the TRAIN cases of that class and score
  the TEST cases, the other classes being the anomalies (ROC-AUC): the
  sequence autoencoder's reconstruction error, ``IsolationForest`` and PCA
  reconstruction error on the flattened series.
- ``archive``: KDD-TSAD 135 of the UCR anomaly archive: fitted on TRAIN,
  scored on TEST; right when the single most anomalous timestamp falls
  within 100 points of the labelled region, beside IsolationForest on the
  same windows; then fit times on equal work, every window of the training
  series for 50 epochs, of skae's detector and PyOD's ``LSTMAD`` (when PyOD
  is installed).

The sequence autoencoder has its defaults, except for what ``--params``
(JSON) sets, e.g. ``--params '{"architecture": "gru",
"hidden_layer_sizes": [64]}'`` for the recurrent model, to choose between
architectures by measurement. ``--min-steps N`` (features) raises
``max_epochs`` so that training takes at least N optimiser steps: on a few
dozen cases an epoch is one step of the default batch of 64.

Run with one thread per process for comparable timings::

    OMP_NUM_THREADS=1 python benchmarks/bench_sequences.py --part features --datasets GunPoint
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import SequenceAutoEncoder, TimeSeriesOutlierDetector
from skae._data import resolve_device
from skae._timeseries import timestamp_scores
from skae._training import resolve_batch_size
from skae.datasets import load_ts

DATA = Path(os.environ.get("SKAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
UCR = ["ArrowHead", "BasicMotions", "GunPoint", "ItalyPowerDemand", "OSULeaf", "ACSF1"]


def load(name):
    folder = DATA / "timeseries" / "ucr" / name
    X_train, y_train = load_ts(folder / f"{name}_TRAIN.ts")
    X_test, y_test = load_ts(folder / f"{name}_TEST.ts")
    # Each channel standardised on the training cases, as the model's input.
    mean = X_train.mean(axis=(0, 2), keepdims=True)
    std = X_train.std(axis=(0, 2), keepdims=True)
    return (X_train - mean) / std, y_train, (X_test - mean) / std, y_test


def sequence_model(n_components, args, seed=0, n_cases=None):
    model = SequenceAutoEncoder(n_components=n_components, random_state=seed, **args.params)
    if args.min_steps and n_cases:
        # Enough epochs for at least --min-steps optimiser steps on n_cases training cases.
        batch = resolve_batch_size(model.batch_size, n_cases, resolve_device(model.device))
        steps_per_epoch = math.ceil(n_cases / batch)
        model.set_params(
            max_epochs=max(model.max_epochs, math.ceil(args.min_steps / steps_per_epoch))
        )
    return model


def classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def features(names, args):
    print("| data | k | sequence AE + LR | PCA + LR | 1-NN raw | AE fit s |")
    print("|---|---|---|---|---|---|")
    means = {}
    for name in names:
        X_train, y_train, X_test, y_test = load(name)
        flat_train, flat_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
        knn = KNeighborsClassifier(1).fit(flat_train, y_train).score(flat_test, y_test)
        for k in args.components:
            accuracies, seconds = [], []
            for seed in range(args.seeds):  # the autoencoder's seed; PCA has none
                start = time.perf_counter()
                model = sequence_model(k, args, seed, len(X_train)).fit(X_train)
                seconds.append(time.perf_counter() - start)
                ae = classifier().fit(model.transform(X_train), y_train)
                accuracies.append(ae.score(model.transform(X_test), y_test))
            ae_accuracy, seconds = np.mean(accuracies), np.mean(seconds)
            pca = PCA(n_components=min(k, *flat_train.shape)).fit(flat_train)
            pca_accuracy = (
                classifier()
                .fit(pca.transform(flat_train), y_train)
                .score(pca.transform(flat_test), y_test)
            )
            means.setdefault(k, []).append((ae_accuracy, pca_accuracy, knn))
            print(
                f"| {name} | {k} | {ae_accuracy:.3f} | {pca_accuracy:.3f} | {knn:.3f} "
                f"| {seconds:.1f} |",
                flush=True,
            )
    for k, rows in means.items():
        ae, pca, knn = np.mean(rows, axis=0)
        print(f"| mean | {k} | {ae:.3f} | {pca:.3f} | {knn:.3f} | |")


def oneclass(names, args):
    print("| data | sequence AE | IsolationForest | PCA |")
    print("|---|---|---|---|")
    all_rows = []
    for name in names:
        X_train, y_train, X_test, y_test = load(name)
        rows = []
        for label in np.unique(y_train):
            normal = X_train[y_train == label]
            anomaly = (y_test != label).astype(int)
            flat_normal, flat_test = (
                normal.reshape(len(normal), -1),
                X_test.reshape(len(X_test), -1),
            )
            model = sequence_model(args.components[0], args).fit(normal)
            ae = roc_auc_score(anomaly, -model.score_samples(X_test))
            forest = IsolationForest(random_state=0).fit(flat_normal)
            iforest = roc_auc_score(anomaly, -forest.score_samples(flat_test))
            k = min(args.components[0], *flat_normal.shape)
            pca = PCA(n_components=k).fit(flat_normal)
            error = np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2, 1)
            rows.append((ae, iforest, roc_auc_score(anomaly, error)))
        ae, iforest, pca = np.mean(rows, axis=0)
        all_rows.append((ae, iforest, pca))
        print(f"| {name} | {ae:.3f} | {iforest:.3f} | {pca:.3f} |", flush=True)
    ae, iforest, pca = np.mean(all_rows, axis=0)
    print(f"| mean | {ae:.3f} | {iforest:.3f} | {pca:.3f} |")


def archive(args):
    folder = DATA / "timeseries" / "anomaly" / "KDD-TSAD_135"
    prefix = "135_UCR_Anomaly_InternalBleeding16"
    train = np.loadtxt(folder / f"{prefix}_TRAIN.csv", delimiter=",", skiprows=1)[:, 1]
    test = np.loadtxt(folder / f"{prefix}_TEST.csv", delimiter=",", skiprows=1)
    region = np.flatnonzero(test[:, 2])
    test = test[:, 1]

    def verdict(worst):
        hit = region.min() - 100 <= worst <= region.max() + 100
        return f"{worst} ({'within' if hit else 'not within'} 100 of {region.min()}-{region.max()})"

    for seed in range(args.seeds):
        start = time.perf_counter()
        detector = TimeSeriesOutlierDetector(stride=args.stride, random_state=seed).fit(train)
        worst = int(np.argmin(detector.score_samples(test)))
        seconds = time.perf_counter() - start
        print(
            f"sequence AE, seed {seed}: window {detector.window_size_}, most anomalous "
            f"timestamp {verdict(worst)}, {seconds:.1f} s",
            flush=True,
        )
    # IsolationForest on the same windows, each timestamp scored by the windows covering it.
    size = detector.window_size_
    windows = np.lib.stride_tricks.sliding_window_view(train, size)[:: args.stride]
    forest = IsolationForest(random_state=0).fit(windows)
    test_windows = np.lib.stride_tricks.sliding_window_view(test, size)
    starts = np.arange(len(test_windows))
    scores = timestamp_scores(-forest.score_samples(test_windows), starts, size, len(test))
    print(f"IsolationForest on windows of {size}: {verdict(int(np.argmax(scores)))}")
    try:
        from pyod.models.ts_lstm import LSTMAD
    except ImportError:
        print("PyOD is not installed: no LSTMAD rows (pip install pyod).")
        return
    # Equal work: every window of the training series (stride 1), 50 epochs, batches of
    # 32, no early stopping, for skae's detector and PyOD's LSTM forecaster alike.
    sequence_ae = SequenceAutoEncoder(
        n_components=8,
        max_epochs=50,
        batch_size=32,
        lr=3e-3,
        n_iter_no_change=None,
        random_state=0,
    )
    contenders = {
        "skae, stride 1, 50 epochs": TimeSeriesOutlierDetector(
            sequence_ae, window_size=size, stride=1, random_state=0
        ),
        "PyOD LSTMAD, 50 epochs": LSTMAD(window_size=size, epochs=50, batch_size=32),
    }
    for name, model in contenders.items():
        start = time.perf_counter()
        model.fit(train[:, np.newaxis])
        fit_seconds = time.perf_counter() - start
        if isinstance(model, TimeSeriesOutlierDetector):
            scores, windows = -model.score_samples(test), len(train) - size + 1
        else:  # each window predicts the value after it
            scores, windows = model.decision_function(test[:, np.newaxis]), len(train) - size
        print(
            f"{name}, {windows} windows of {size}: {verdict(int(np.argmax(scores)))}, "
            f"fit {fit_seconds:.1f} s",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["features", "oneclass", "archive"], required=True)
    parser.add_argument("--datasets", nargs="+", default=UCR)
    parser.add_argument("--components", type=int, nargs="+", default=[8, 16])
    parser.add_argument(
        "--params", type=json.loads, default={}, help="SequenceAutoEncoder parameters, as JSON"
    )
    parser.add_argument(
        "--min-steps",
        type=int,
        default=0,
        help="features: raise max_epochs to give at least this many optimiser steps",
    )
    parser.add_argument("--stride", type=int, default=4, help="archive: steps between windows")
    parser.add_argument(
        "--seeds", type=int, default=3, help="features and archive: seeds of the autoencoder"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    if args.part == "features":
        features(args.datasets, args)
    elif args.part == "oneclass":
        oneclass(args.datasets, args)
    else:
        archive(args)
    print(f"\ntotal {time.perf_counter() - start:.0f} s, torch {torch.__version__}, 1 thread")


if __name__ == "__main__":
    main()
