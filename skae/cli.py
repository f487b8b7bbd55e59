"""Command line: ``skae compare`` (also ``python -m skae compare``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def load_table(path, target=None):
    """Read ``.npy`` or ``.csv`` data; ``target`` names a label column of a CSV.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` array (n_samples, n_features) or a CSV with a header row.
    target : str or None
        CSV column holding labels; it is removed from the features.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or None

    Examples
    --------
    >>> import os, tempfile
    >>> from skae.cli import load_table
    >>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> _ = open(path, "w").write("a,b,label\\n1,2,0\\n3,4,1\\n")
    >>> X, y = load_table(path, target="label")
    >>> X.shape, y.tolist()
    ((2, 2), [0, 1])
    """
    path = Path(path)
    if path.suffix == ".npy":
        if target is not None:
            raise ValueError(
                "--target names a CSV column; for .npy data pass labels with --labels."
            )
        X = np.load(path, allow_pickle=False)
        if X.ndim != 2:
            raise ValueError(
                f"{path} holds an array of shape {X.shape}; expected 2-D (rows, features)."
            )
        return X, None
    if path.suffix in (".csv", ".txt"):
        import csv

        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        if len(rows) < 2:
            raise ValueError(f"{path} has no data rows (a header row, then one row per sample).")
        header, body = rows[0], rows[1:]
        ragged = [i + 2 for i, row in enumerate(body) if len(row) != len(header)]
        if ragged:
            raise ValueError(
                f"{path} line {ragged[0]} does not have {len(header)} fields like its header."
            )
        if target is not None and target not in header:
            raise ValueError(f"--target {target!r} is not a column of {path}; columns: {header}.")
        cols = [i for i, name in enumerate(header) if name != target]
        X = np.array(
            [
                [_number(path, header, row, i, line) for i in cols]
                for line, row in enumerate(body, start=2)
            ]
        )
        y = None
        if target is not None:
            y = np.array([row[header.index(target)] for row in body])
            try:
                y = y.astype(np.int64)
            except ValueError:
                pass
        return X, y
    raise ValueError(f"Unsupported data file {path}: use .csv, .txt (comma-separated) or .npy.")


def _number(path, header, row, column, line) -> float:
    """The value of ``row[column]`` as a float, or an error naming the column, line and fix."""
    text = row[column]
    try:
        return float(text)
    except ValueError:
        pass
    name = header[column]
    if not text.strip():
        raise ValueError(
            f"{path} line {line}, column {name!r}: the value is missing. skae needs every value; "
            "fill missing values (e.g. with sklearn.impute.SimpleImputer) or drop those rows first."
        )
    raise ValueError(
        f"{path} line {line}, column {name!r}: {text!r} is not a number. If {name!r} holds the "
        f"labels, pass --target {name}; otherwise drop or encode that column first."
    )


def _compare(args) -> int:
    from .compare import format_table, plot_comparison, run_comparison

    if args.data is None:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        source = "scikit-learn digits (1797 x 64)"
    else:
        X, y = load_table(args.data, args.target)
        if args.labels is not None:
            y = np.load(args.labels, allow_pickle=False)
        source = f"{args.data} ({X.shape[0]} x {X.shape[1]})"
    if args.n_components > X.shape[1]:
        raise ValueError(
            f"--n-components {args.n_components} is more than the {X.shape[1]} features of "
            f"{source}: PCA, the reference, has at most one component per feature. Pass "
            f"--n-components {X.shape[1]} or fewer."
        )
    print(f"data: {source}; n_components={args.n_components}; held-out fraction {args.test_size}")
    results, X_test, y_test = run_comparison(
        X,
        y,
        n_components=args.n_components,
        test_size=args.test_size,
        scale=args.scale,
        random_state=args.random_state,
        max_epochs=args.max_epochs,
        verbose=True,
    )
    print(format_table(results))
    if args.output != "none":
        try:
            plot_comparison(results, X_test, y_test, args.output)
        except ImportError:
            print("matplotlib is not installed: no figure (pip install 'skae[plot]').")
        else:
            print(f"figure: {args.output}")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``skae`` command.

    Parameters
    ----------
    argv : list of str or None
        Arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        Exit status.

    Examples
    --------
    >>> from skae.cli import main
    >>> main(["compare", "--max-epochs", "1", "--output", "none"])  # doctest: +SKIP
    0
    """
    parser = argparse.ArgumentParser(
        prog="skae", description="Autoencoders as scikit-learn transformers."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser(
        "compare",
        help="compare PCA and skae's autoencoders on a dataset",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    cmp.add_argument("--data", help=".csv or .npy file (default: scikit-learn's digits)")
    cmp.add_argument("--target", help="label column of a CSV file")
    cmp.add_argument("--labels", help=".npy file of labels for --data")
    cmp.add_argument("--n-components", type=int, default=8, help="code size of every method")
    cmp.add_argument("--test-size", type=float, default=0.25, help="fraction of rows held out")
    cmp.add_argument(
        "--scale",
        choices=["minmax", "standard", "none"],
        default="minmax",
        help="scaling of the features, fitted on the training rows",
    )
    cmp.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="epoch budget of each autoencoder; None keeps each one's own",
    )
    cmp.add_argument("--random-state", type=int, default=0, help="seed of the split and the models")
    cmp.add_argument("--output", default="skae_compare.png", help="PNG path, or 'none'")
    args = parser.parse_args(argv)
    try:
        return _compare(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"skae compare: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
