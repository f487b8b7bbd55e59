"""Drawing new data from a generative autoencoder's prior."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._random import make_generator, seed_from_random_state
from ._training import module_device


class PriorSamplingMixin:
    """``sample``: decode draws from the prior of a fitted generative autoencoder.

    The estimator's module provides ``sample_prior(n, generator)``.
    """

    def sample(self, n_samples=1, random_state=None):
        """Generate new rows by decoding draws from the code's prior.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the prior draws through a local generator; with an int the
            samples are reproducible on the same device.

        Returns
        -------
        X : ndarray of shape (n_samples, ``n_features_in_``)
            Decoded samples (for a Bernoulli decoder, pixel probabilities), float64.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        device = module_device(self.net_)
        generator = make_generator(seed_from_random_state(random_state), device)
        codes = self.module_.sample_prior(int(n_samples), generator).cpu().numpy()
        return self._apply(lambda m, zb: m.decode(zb), codes).astype(np.float64)
