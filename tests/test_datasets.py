"""Loaders of files the user has: the .ts time-series format."""

import numpy as np
import pytest

from skae.datasets import load_ts

HEADER = "# a comment\n@problemName t\n@timeStamps false\n@missing true\n"


def write(tmp_path, text, name="t.ts"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_equal_lengths_give_aeons_3d_layout_and_labels(tmp_path):
    path = write(
        tmp_path,
        HEADER + "@univariate true\n@equalLength true\n@seriesLength 4\n"
        "@classLabel true yes no\n@data\n1,2,3,4:yes\n\n5,?,7,8:no\n",
    )
    X, y = load_ts(path)
    assert X.shape == (2, 1, 4) and X.dtype == np.float64
    np.testing.assert_array_equal(X[0, 0], [1, 2, 3, 4])
    assert np.isnan(X[1, 0, 1]) and X[1, 0, 3] == 8
    assert y.tolist() == ["yes", "no"]


def test_unequal_lengths_give_a_list_of_2d_cases(tmp_path):
    path = write(
        tmp_path,
        HEADER + "@univariate false\n@dimensions 2\n@equalLength false\n"
        "@targetLabel true\n@data\n1,2,3:4,5,6:0.5\n1,2:3,4:1.5\n",
    )
    X, y = load_ts(path)
    assert isinstance(X, list) and [x.shape for x in X] == [(2, 3), (2, 2)]
    np.testing.assert_array_equal(X[1], [[1, 2], [3, 4]])
    assert y.dtype == np.float64 and y.tolist() == [0.5, 1.5]


def test_unlabelled_cases_give_no_y(tmp_path):
    X, y = load_ts(write(tmp_path, "@classLabel false\n@data\n1,2\n3,4\n"))
    assert X.shape == (2, 1, 2) and y is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3\n", "expected an @ header"),
        ("@problemName t\n", "no @data"),
        ("@data\n", "no cases"),
        ("@dimensions 2\n@data\n1,2\n", "1 channels, but @dimensions says 2"),
        ("@classLabel true a b\n@data\n1,2:c\n", "label 'c' is not among"),
        ("@data\n1,x,3\n", "line 2: a value is not a number"),
        ("@dimensions 2\n@data\n1,2:3\n", "channels have different lengths"),
        ("@timeStamps true\n@data\n(0,1)\n", "timeStamps true"),
    ],
)
def test_malformed_files_are_refused_naming_the_line(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_ts(write(tmp_path, text))


# The six UCR/UEA collections beside the checkout (SOURCES.md gives these shapes).
UCR = {
    "ArrowHead": ((36, 1, 251), (175, 1, 251), 3),
    "GunPoint": ((50, 1, 150), (150, 1, 150), 2),
    "ItalyPowerDemand": ((67, 1, 24), (1029, 1, 24), 2),
    "OSULeaf": ((200, 1, 427), (242, 1, 427), 6),
    "ACSF1": ((100, 1, 1460), (100, 1, 1460), 10),
    "BasicMotions": ((40, 6, 100), (40, 6, 100), 4),
}


@pytest.mark.parametrize("name", sorted(UCR))
def test_the_ucr_collections_load_with_their_documented_shapes(shared_data, name):
    folder = shared_data / "timeseries" / "ucr" / name
    train_shape, test_shape, n_classes = UCR[name]
    X_train, y_train = load_ts(folder / f"{name}_TRAIN.ts")
    X_test, y_test = load_ts(folder / f"{name}_TEST.ts")
    assert (X_train.shape, X_test.shape) == (train_shape, test_shape)
    assert len(set(y_train) | set(y_test)) == n_classes
    assert np.isfinite(X_train).all() and np.isfinite(X_test).all()
