"""ODDS outlier-detection benchmark with the protocol of PyOD's benchmark.

For each dataset and seed ``i`` (as PyOD's ``notebooks/benchmark.py``): a
60/40 split ``train_test_split(X, y, test_size=0.4, random_state=RandomState(i))``,
z-scores fitted on the training part (PyOD's ``standardizer``), every
detector fitted on the training part *with its outliers* (no labels) and
scored on the test part; ROC-AUC and precision at rank n (n = number of test
outliers, PyOD's ``precision_n_scores``) of the test scores.

Detectors, side by side in the same run on the same splits:

- ``skae``: ``AutoEncoderOutlierDetector(random_state=i)``, its defaults (an
  ensemble of 5 autoencoders on 256-row subsamples, the combined score);
  ``skae-recon``: the plain reconstruction error of the same fitted
  autoencoders (``reconstruction_error``, PyOD's score), so no extra training
  (it is computed after the timing, so both columns give the time of one fit
  and one score);
  ``skae-single``: one autoencoder on all the training rows
  (``n_estimators=1, max_samples=1.0``, the default before the ensemble), its
  own fit;
- ``skae-apart``: the ``skae`` detector with its autoencoders trained one
  after the other instead of side by side as one stacked network (how skae
  trained them before), for the speed-up of training them together;
- ``hand-loop``: the default ensemble's training written by hand in torch
  (stacked members, the same rows, network, batches and epochs, no early
  stopping, validation or score statistics; the mean reconstruction error):
  a floor for the time of ``skae``'s training on this machine;
- ``IForest``: ``sklearn.ensemble.IsolationForest(random_state=i)``;
- ``PCA``: squared reconstruction error of ``sklearn.decomposition.PCA`` with
  the default autoencoder's code size, ``ceil(sqrt(n_features))``;
- ``PyOD-AE``: ``pyod.models.auto_encoder.AutoEncoder`` with its defaults
  (skipped when PyOD is not installed).

Run with one thread per process for comparable timings::

    OMP_NUM_THREADS=1 python benchmarks/bench_outliers.py --seeds 5

Runs split over processes (``--json`` each) print as one with ``--report``::

    python benchmarks/bench_outliers.py --report a.json b.json

Two runs of the same sets and splits with other settings compare with
``--paired`` (skae's ROC-AUC and time in each, and the paired gap)::

    python benchmarks/bench_outliers.py --paired default.json shorter.json

``--autoencoder`` changes settings of the detectors' default autoencoder
(e.g. ``'{"max_epochs": 30, "lr": 0.003}'``), to measure what a shorter
training costs; ``--detector`` changes the detector's own settings (e.g.
``'{"n_estimators": 5}'``); ``--first-fit-epochs`` the epochs of the first
fit of the trim (``full`` for all of ``max_epochs``, as before skae halved
them). ``--datasets`` takes any of the ODDS files'
names (e.g. the sets on which the defaults were chosen: annthyroid breastw
glass ionosphere letter lympho mammography musk optdigits pendigits
satimage-2 vertebral vowels), or
``all`` for every ODDS file in the data folder.
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
from sklearn.metrics import precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoderOutlierDetector, _outlier_member, _training
from skae._outlier import default_autoencoder
from skae._outlier_member import _lowest
from skae.datasets import load_odds

DATA = Path(os.environ.get("SKAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DATASETS = ["arrhythmia", "cardio", "mnist", "pima", "satellite", "shuttle", "thyroid", "wbc"]


def precision_at_n(y, scores) -> float:
    """PyOD's ``precision_n_scores``: precision of the n highest scores, n = number of outliers."""
    n = int(np.count_nonzero(y))
    threshold = np.percentile(scores, 100 * (1 - n / len(y)))
    return float(precision_score(y, (scores >= threshold).astype(int), zero_division=0))


# Settings of the default autoencoder that --autoencoder changes (none: the defaults).
AUTOENCODER = {}
# Settings of the detector that --detector changes (none: the defaults).
DETECTOR = {}


def skae_detector(X_train, seed):
    """The default detector; ``DETECTOR`` changes its settings, ``AUTOENCODER`` its network's."""
    estimator = default_autoencoder(X_train.shape[1]).set_params(**AUTOENCODER)
    return AutoEncoderOutlierDetector(
        estimator if AUTOENCODER else None, random_state=seed, **DETECTOR
    )


def skae_scores(X_train, X_test, seed):
    detector = skae_detector(X_train, seed).fit(X_train)
    # The default (combined) score, and the plain reconstruction error of the same autoencoders,
    # computed after the timing: the time is that of one fit and one score.
    return {
        "skae": -detector.score_samples(X_test),
        "skae-recon": lambda: detector.reconstruction_error(X_test),
    }


def skae_single_scores(X_train, X_test, seed):
    detector = AutoEncoderOutlierDetector(n_estimators=1, max_samples=1.0, random_state=seed)
    return -detector.fit(X_train).score_samples(X_test)


def skae_apart_scores(X_train, X_test, seed):
    stackable = _training._stackable
    _training._stackable = lambda plans: None  # every plan trains on its own
    try:
        return -skae_detector(X_train, seed).fit(X_train).score_samples(X_test)
    finally:
        _training._stackable = stackable


def hand_loop_scores(X_train, X_test, seed):
    """The default ensemble's training written out by hand in torch: a floor for its time.

    The same work per fit as the default detector when no member stops
    early: its members stacked as batched products, each on 256 standardised
    rows of which it trains on all but skae's validation tenth, a network of
    the autoencoder's widths with ReLU units, fused Adam at its learning
    rate, two stages of its batches (the first of half of ``max_epochs``
    epochs, rounded up, as skae's; the second of ``max_epochs``, on the 90 %
    of rows the first reconstructs best). Nothing else: no
    validation, early stopping or score statistics; the score is the mean
    reconstruction error of the test rows, in float32. Data stay in one
    tensor, on the device skae's ``device="auto"`` picks (CUDA when there
    is one), and each batch is a slice.
    It follows ``n_estimators``, an int ``max_samples``, ``hidden_layer_sizes``,
    ``n_components``, ``max_epochs``, ``batch_size`` and ``lr`` of
    ``--detector`` and ``--autoencoder``, and refuses other changes.
    """
    detector = skae_detector(X_train, seed)
    autoencoder = detector.estimator or default_autoencoder(X_train.shape[1])
    followed = {"hidden_layer_sizes", "n_components", "max_epochs", "batch_size", "lr"}
    if set(AUTOENCODER) - followed or set(DETECTOR) - {"n_estimators", "max_samples"}:
        raise SystemExit("hand-loop follows only the settings its docstring names.")
    n_members, n_rows = detector.n_estimators, detector.max_samples
    n_rows = 256 if n_rows == "auto" else n_rows
    if not isinstance(n_rows, int):
        raise SystemExit("hand-loop takes an int max_samples.")
    epochs, batch, lr = autoencoder.max_epochs, autoencoder.batch_size, autoencoder.lr
    generator = torch.Generator().manual_seed(seed)  # drawn on the CPU, then moved
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rng = np.random.RandomState(seed)
    n, d = X_train.shape
    rows = [np.sort(rng.choice(n, min(n_rows, n), replace=False)) for _ in range(n_members)]
    hidden = list(autoencoder.hidden_layer_sizes)
    widths = [d, *hidden, autoencoder.n_components, *hidden[::-1], d]
    relu = [True] * len(hidden) + [False] + [True] * len(hidden) + [False]  # code, output linear

    def forward(weights, x):
        for (w, b), act in zip(weights, relu):
            x = torch.baddbmm(b.unsqueeze(1), x, w)
            x = torch.relu(x) if act else x
        return x

    def stage(samples, epochs):  # (members, rows, features) float64
        mean, std = samples.mean(1, keepdims=True), samples.std(1, keepdims=True)
        std[std < 10 * np.finfo(np.float64).eps] = 1.0  # as StandardScaler: constant features
        X = torch.as_tensor((samples - mean) / std, dtype=torch.float32, device=device)
        weights = []
        for a, b in zip(widths[:-1], widths[1:]):
            bound = 1 / math.sqrt(a)  # torch.nn.Linear's initialisation
            w = (torch.rand(n_members, a, b, generator=generator) * 2 - 1) * bound
            bias = (torch.rand(n_members, b, generator=generator) * 2 - 1) * bound
            weights.append((w.to(device).requires_grad_(), bias.to(device).requires_grad_()))
        optimizer = torch.optim.Adam([p for pair in weights for p in pair], lr=lr, fused=True)
        train = X[:, : X.shape[1] - max(1, round(0.1 * X.shape[1]))]  # as skae's split_rows
        for _ in range(epochs):
            order = torch.randperm(train.shape[1], generator=generator).to(device)
            shuffled = train[:, order]
            for start in range(0, shuffled.shape[1], batch):
                x = shuffled[:, start : start + batch]
                optimizer.zero_grad(set_to_none=True)
                ((forward(weights, x) - x) ** 2).mean(dim=(1, 2)).sum().backward()
                optimizer.step()
        with torch.no_grad():
            errors = ((forward(weights, X) - X) ** 2).mean(2).cpu().numpy()
        return errors, (weights, mean, std)

    samples = np.stack([X_train[r] for r in rows])
    errors, _ = stage(samples, _outlier_member.screening_epochs(epochs))
    kept = np.stack([_lowest(member_errors, detector.trim) for member_errors in errors])
    _, (weights, mean, std) = stage(np.take_along_axis(samples, kept[:, :, None], axis=1), epochs)
    with torch.no_grad():
        X = torch.as_tensor((X_test[None] - mean) / std, dtype=torch.float32, device=device)
        errors = (forward(weights, X).double() - X.double()) ** 2
        return errors.mean(dim=(0, 2)).cpu().numpy()


def iforest_scores(X_train, X_test, seed):
    return -IsolationForest(random_state=seed).fit(X_train).score_samples(X_test)


def pca_scores(X_train, X_test, seed):
    k = min(max(1, math.ceil(math.sqrt(X_train.shape[1]))), *X_train.shape)
    pca = PCA(n_components=k, random_state=seed).fit(X_train)
    return np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2, axis=1)


def pyod_scores(X_train, X_test, seed):
    from pyod.models.auto_encoder import AutoEncoder as PyODAutoEncoder

    detector = PyODAutoEncoder(random_state=seed, verbose=0, device="cpu")
    return detector.fit(X_train).decision_function(X_test)


def detectors():
    found = {
        "skae": skae_scores,
        "skae-single": skae_single_scores,
        "skae-apart": skae_apart_scores,
        "hand-loop": hand_loop_scores,
        "IForest": iforest_scores,
        "PCA": pca_scores,
    }
    try:
        import pyod  # noqa: F401
    except ImportError:
        print("PyOD is not installed: no PyOD-AE column (pip install pyod).")
    else:
        found["PyOD-AE"] = pyod_scores
    return found


def run(names, seeds, only=None):
    methods = detectors()
    if only:
        methods = {m: f for m, f in methods.items() if m in only}
    columns = [*(["skae", "skae-recon"] if "skae" in methods else []), *methods]
    columns = list(dict.fromkeys(columns))
    # One-time costs (imports, torch's first optimizer) are paid before any timing.
    warm = np.random.RandomState(0).normal(size=(300, 8))
    for scores_of in methods.values():
        scores_of(warm, warm, 0)
    results = {}
    for name in names:
        X, y = load_odds(DATA / "odds" / f"{name}.mat")
        rows = {c: {"roc": [], "prn": [], "time": []} for c in columns}
        for seed in range(seeds):
            X_train, X_test, _, y_test = train_test_split(
                X, y, test_size=0.4, random_state=np.random.RandomState(seed)
            )
            scaler = StandardScaler().fit(X_train)  # PyOD's standardizer
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
            for method, scores_of in methods.items():
                start = time.perf_counter()
                scores = scores_of(X_train, X_test, seed)
                elapsed = time.perf_counter() - start
                if not isinstance(scores, dict):
                    scores = {method: scores}
                for column, values in scores.items():
                    values = values() if callable(values) else values
                    rows[column]["time"].append(elapsed)
                    rows[column]["roc"].append(roc_auc_score(y_test, values))
                    rows[column]["prn"].append(precision_at_n(y_test, values))
        results[name] = {c: {k: float(np.mean(v)) for k, v in r.items()} for c, r in rows.items()}
        for column, figures in rows.items():
            results[name][column]["roc_splits"] = figures["roc"]
        print(
            f"{name:11s} {X.shape[0]:6d} x {X.shape[1]:3d}  "
            + "  ".join(
                f"{c} {results[name][c]['roc']:.4f} ({results[name][c]['time']:.2f} s)"
                for c in columns
            ),
            flush=True,
        )
    return results, columns


def table(results, methods, metric, best=max):
    """A markdown table of ``metric``, the best detector of each row (and of the mean) in bold."""

    def row(label, values):
        top = best(values)
        return (
            f"| {label} | "
            + " | ".join(f"**{v:.4f}**" if v == top else f"{v:.4f}" for v in values)
            + " |"
        )

    lines = ["| data | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for name, figures in results.items():
        lines.append(row(name, [figures[m][metric] for m in methods]))
    means = [float(np.mean([f[m][metric] for f in results.values()])) for m in methods]
    lines.append(row("mean", means))
    return "\n".join(lines)


def paired_difference(results, a, b):
    """Mean ROC-AUC of ``a`` minus ``b`` over the datasets, and its standard error over splits.

    Both detectors see the same splits, so each split gives one difference of the
    dataset means; their spread says how much of a gap the choice of splits explains.
    """
    per_split = np.mean(
        [np.subtract(f[a]["roc_splits"], f[b]["roc_splits"]) for f in results.values()], axis=0
    )
    error = per_split.std(ddof=1) / np.sqrt(len(per_split)) if len(per_split) > 1 else np.nan
    return float(per_split.mean()), float(error)


def report(results, methods, seeds) -> None:
    """Print the ROC-AUC table, the paired differences, precision at n and timings."""
    print(f"\nROC-AUC, mean of {seeds} splits\n\n{table(results, methods, 'roc')}\n")
    for other in methods[1:]:
        gap, error = paired_difference(results, "skae", other)
        print(f"skae minus {other}: {gap:+.4f} +- {error:.4f} (standard error over splits)")
    print(f"\nprecision @ n, mean of {seeds} splits\n\n{table(results, methods, 'prn')}")
    seconds = table(results, methods, "time", best=min)
    print(f"\nseconds per fit + score, mean of {seeds} splits\n\n{seconds}")
    if "IForest" in methods:
        mean_time = {m: np.mean([f[m]["time"] for f in results.values()]) for m in methods}
        print(
            "\nmean time over the sets, as a multiple of IsolationForest's: "
            + ", ".join(f"{m} {mean_time[m] / mean_time['IForest']:.1f}x" for m in methods)
        )


def merged(paths):
    """The figures of several ``--json`` files (e.g. runs split over processes), as one run."""
    results = {}
    for path in paths:
        for name, figures in json.loads(Path(path).read_text()).items():
            if name in results:
                raise SystemExit(f"{name} is in more than one file; give each dataset once.")
            results[name] = figures
    methods = list(next(iter(results.values())))
    if any(list(figures) != methods for figures in results.values()):
        raise SystemExit("The files hold different detectors; run them with the same columns.")
    splits = {len(f[m]["roc_splits"]) for f in results.values() for m in methods}
    if len(splits) != 1:
        raise SystemExit(f"The files hold runs with different numbers of splits: {sorted(splits)}.")
    return results, methods, splits.pop()


def paired(path_a, path_b) -> None:
    """Print skae's mean ROC-AUC and time in two ``--json`` runs on the same splits, and the gap."""
    a, b = (json.loads(Path(path).read_text()) for path in (path_a, path_b))
    names = [name for name in a if name in b]
    joined = {n: {"A": a[n]["skae"], "B": b[n]["skae"]} for n in names}
    gap, error = paired_difference(joined, "B", "A")
    n_splits = len(joined[names[0]]["A"]["roc_splits"])
    for label, run in (("A", a), ("B", b)):
        roc = np.mean([run[n]["skae"]["roc"] for n in names])
        seconds = np.mean([run[n]["skae"]["time"] for n in names])
        line = f"{label}: skae mean ROC-AUC {roc:.4f}, {seconds:.3f} s per fit + score"
        if all("IForest" in run[n] for n in names):
            forest = np.mean([run[n]["IForest"]["time"] for n in names])
            line += f", {seconds / forest:.1f}x IsolationForest's ({forest:.3f} s)"
        print(line)
    print(
        f"B minus A: {gap:+.4f} +- {error:.4f} "
        f"(standard error over {n_splits} splits, {len(names)} sets)"
    )


def first_fit_epochs(value: str):
    """``--first-fit-epochs``: ``"full"`` or a number of epochs, at least 1."""
    if value == "full" or (value.isdigit() and int(value) >= 1):
        return value
    raise argparse.ArgumentTypeError(f"{value!r} is neither 'full' nor a number of epochs >= 1")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seeds", type=int, default=5, help="number of random splits")
    parser.add_argument(
        "--autoencoder",
        type=json.loads,
        default={},
        help="JSON settings of the default autoencoder to change, e.g. '{\"max_epochs\": 30}'",
    )
    parser.add_argument(
        "--detector",
        type=json.loads,
        default={},
        help="JSON settings of the skae detector to change, e.g. '{\"n_estimators\": 5}'",
    )
    parser.add_argument(
        "--detectors", nargs="+", help="only these columns (default: all; skae is always first)"
    )
    parser.add_argument(
        "--first-fit-epochs",
        type=first_fit_epochs,
        help="epochs of the first fit of the trim, for skae and hand-loop: a number, or 'full' "
        "for max_epochs (default: skae's rule, half of max_epochs)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--report",
        nargs="+",
        metavar="JSON",
        help="run nothing: print the tables of these --json files together",
    )
    parser.add_argument(
        "--paired",
        nargs=2,
        metavar=("A", "B"),
        help="run nothing: compare skae in two --json runs of the same sets and splits",
    )
    args = parser.parse_args()
    if args.paired:
        paired(*args.paired)
        return
    if args.report:
        report(*merged(args.report))
        return
    if args.datasets == ["all"]:
        args.datasets = sorted(path.stem for path in (DATA / "odds").glob("*.mat"))
    AUTOENCODER.update(args.autoencoder)
    DETECTOR.update(args.detector)
    if args.first_fit_epochs:  # in place of skae's rule, which the hand loop also reads
        first = args.first_fit_epochs
        _outlier_member.screening_epochs = lambda epochs: epochs if first == "full" else int(first)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    results, methods = run(args.datasets, args.seeds, args.detectors and ["skae", *args.detectors])
    elapsed = time.perf_counter() - start
    report(results, methods, args.seeds)
    print(f"\ntotal {elapsed:.0f} s, torch {torch.__version__}, {torch.get_num_threads()} thread")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
