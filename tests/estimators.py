"""Every public skae estimator, at a small training budget, for the shared tests."""

import skae

FAST = dict(max_epochs=5, batch_size=16, hidden_layer_sizes=(8,), random_state=0)


def small_autoencoders():
    """One instance of each registered autoencoder (the transformers skae.save stores)."""
    return [cls(**FAST) for cls in skae.all_estimators().values()]


def small_estimators():
    """One instance of each public estimator, fast enough for the common checks."""
    autoencoders = small_autoencoders()
    tiny = skae.AutoEncoder(n_components=4, hidden_layer_sizes=(8,), max_epochs=5, batch_size=16)
    # A linear head: with a hidden layer too, float32 inference of one row alone and of
    # the same row in a batch differ by ~1e-6 relative (BLAS kernels), beyond the 1e-7
    # of check_methods_subset_invariance.
    head = dict(head_layer_sizes=(), max_epochs=40, batch_size=16, lr=1e-2, random_state=0)
    return autoencoders + [
        # An ensemble of two.
        skae.AutoEncoderOutlierDetector(skae.AutoEncoder(**FAST), n_estimators=2, random_state=0),
        # One autoencoder, with a mixture of the codes, meets the tiny and degenerate inputs too.
        skae.AutoEncoderOutlierDetector(
            skae.AutoEncoder(**FAST), n_estimators=1, max_samples=1.0, code_components=3,
            random_state=0,
        ),
        skae.AutoEncoderClassifier(tiny, **head),
        skae.AutoEncoderRegressor(tiny, **head),
        skae.HammingIndex(
            skae.HashingAutoEncoder(n_bits=8, hidden_layer_sizes=(8,), max_epochs=3,
                                    batch_size=16, random_state=0),
            n_neighbors=2,
        ),
    ]
