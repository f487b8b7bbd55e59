import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

# The datasets beside the checkout (../shared/data); tests that need them skip without them.
SHARED_DATA = Path(
    os.environ.get("SKAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1] with labels."""
    data = load_digits()
    return data.data / 16.0, data.target


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no shared data at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def rng():
    return np.random.RandomState(0)
