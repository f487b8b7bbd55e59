"""What skae's outlier detectors share: the threshold set by ``contamination``, and seeding."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone


def outlier_threshold(scores: np.ndarray, contamination) -> float:
    """The outlier score above which training scores ``scores`` are outliers.

    ``"auto"`` is the upper fence of a boxplot, ``Q3 + 1.5 (Q3 - Q1)``; a
    float is the ``1 - contamination`` quantile, so that fraction is flagged.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._detection import outlier_threshold
    >>> outlier_threshold(np.arange(101.0), 0.1)
    90.0
    """
    if contamination == "auto":
        q1, q3 = np.percentile(scores, [25.0, 75.0])
        return float(q3 + 1.5 * (q3 - q1))
    return float(np.percentile(scores, 100.0 * (1.0 - contamination)))


def seeded_clone(estimator, seed):
    """A clone of ``estimator`` whose every ``random_state``, nested ones too, is ``seed``.

    As scikit-learn's bagging ensembles seed their members: an autoencoder
    inside a ``Pipeline`` gets the seed as well.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.decomposition import PCA
    >>> from skae._detection import seeded_clone
    >>> seeded_clone(make_pipeline(PCA(random_state=1)), 7).get_params()["pca__random_state"]
    7
    """
    estimator = clone(estimator)
    keys = [key for key in estimator.get_params(deep=True) if key.endswith("random_state")]
    return estimator.set_params(**dict.fromkeys(keys, seed))
