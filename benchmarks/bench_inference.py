"""Time skae's batch-invariant inference against a raw ``torch.inference_mode()`` forward.

skae computes float64 input in float64 (so that a row's result does not
depend on its batch, the thread count or the CPU) and float32 input in
float32, in blocks of at most 4096 rows. The reference is what a user would
write by hand: the fitted encoder called once on the whole float32 tensor
under ``torch.inference_mode()``.

    python benchmarks/bench_inference.py            # 200,000 x 64, default model

Prints median seconds over interleaved repeats and the ratios to the raw
float32 forward (and to a raw float64 forward, the same arithmetic as skae's
float64 path).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch

import skae


def raw_forward(encoder, X):
    """The hand-written reference: one call on the whole tensor, no copies kept."""
    with torch.inference_mode():
        return encoder(torch.from_numpy(X)).numpy()


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X64 = rng.normal(size=(args.rows, args.features))
    X32 = X64.astype(np.float32)
    # The default model; the weights do not matter for timing, so one short epoch.
    ae = skae.AutoEncoder(max_epochs=1, random_state=0).fit(X64[:2000])
    encoder32 = ae.encoder_
    encoder64 = copy.deepcopy(encoder32).to(torch.float64)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.rows} x "
        f"{args.features}; AutoEncoder() ({args.features}-256-128-{ae.n_components} encoder)"
    )
    cases = {
        "raw forward, float32": lambda: raw_forward(encoder32, X32),
        "raw forward, float64": lambda: raw_forward(encoder64, X64),
        "skae transform, float32 input": lambda: ae.transform(X32),
        "skae transform, float64 input": lambda: ae.transform(X64),
    }
    for fn in cases.values():  # warm-up
        fn()
    times = {name: [] for name in cases}
    for _ in range(args.repeats):  # interleaved, so drift hits every case alike
        for name, fn in cases.items():
            times[name].append(timed(fn))
    median = {name: statistics.median(t) for name, t in times.items()}
    raw32, raw64 = median["raw forward, float32"], median["raw forward, float64"]
    print(f"{'case':<32}{'seconds':>9}{'/ raw f32':>11}{'/ raw f64':>11}")
    for name, t in median.items():
        print(f"{name:<32}{t:9.4f}{t / raw32:10.2f}x{t / raw64:10.2f}x")


if __name__ == "__main__":
    main()
