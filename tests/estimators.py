"""Every public skae estimator, at a small training budget, for the shared tests."""

import skae

FAST = dict(max_epochs=5, batch_size=16, hidden_layer_sizes=(8,), random_state=0)


def small_autoencoders():
    """One instance of each autoencoder (skae's transformers)."""
    return [cls(**FAST) for _, cls in skae.all_estimators(type_filter="transformer")]


def small_estimators():
    """One instance of each public estimator, fast enough for the common checks."""
    autoencoders = small_autoencoders()
    tiny = skae.AutoEncoder(n_components=4, hidden_layer_sizes=(8,), max_epochs=5, batch_size=16)
    # A linear head (the default (64,) head is checked in default_estimators).
    head = dict(head_layer_sizes=(), max_epochs=40, batch_size=16, lr=1e-2, random_state=0)
    return autoencoders + [
        # An ensemble of two.
        skae.AutoEncoderOutlierDetector(skae.AutoEncoder(**FAST), n_estimators=2, random_state=0),
        # One autoencoder, with a mixture of the codes, meets the tiny and degenerate inputs too.
        skae.AutoEncoderOutlierDetector(
            skae.AutoEncoder(**FAST),
            n_estimators=1,
            max_samples=1.0,
            code_components=3,
            random_state=0,
        ),
        # Windows of 6 timestamps every 2: the checks' rows are the timestamps of a series.
        # A tenth flagged: the checks' noise series has no stretch beyond the "auto" fence.
        skae.TimeSeriesOutlierDetector(
            skae.SequenceAutoEncoder(**FAST),
            window_size=6,
            stride=2,
            contamination=0.1,
            random_state=0,
        ),
        skae.AutoEncoderClassifier(tiny, **head),
        skae.AutoEncoderRegressor(tiny, **head),
        skae.HammingIndex(
            skae.HashingAutoEncoder(
                n_bits=8, hidden_layer_sizes=(8,), max_epochs=3, batch_size=16, random_state=0
            ),
            n_neighbors=2,
        ),
    ]


# Epochs for the default-constructed instances: scikit-learn's checks test the contract.
CHECK_EPOCHS = 3
# The supervised heads count epochs over their labelled rows: 3 epochs of the checks'
# 200 rows are 21 Adam steps, too few for check_regressors_train's R^2 > 0.5.
HEAD_CHECK_EPOCHS = 20


def default_estimators():
    """Every public estimator as a user constructs it, training shortened only through max_epochs.

    The outlier detector's members are its default autoencoder, whose epochs the
    check shortens through ``skae._outlier._DEFAULT_MAX_EPOCHS`` (see test_common).
    """
    autoencoders = [
        cls(max_epochs=CHECK_EPOCHS) for _, cls in skae.all_estimators(type_filter="transformer")
    ]
    return autoencoders + [
        skae.AutoEncoderOutlierDetector(),
        skae.TimeSeriesOutlierDetector(),
        skae.AutoEncoderClassifier(max_epochs=HEAD_CHECK_EPOCHS),
        skae.AutoEncoderRegressor(max_epochs=HEAD_CHECK_EPOCHS),
        skae.HammingIndex(),
    ]
