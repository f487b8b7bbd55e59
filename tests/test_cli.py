"""The main job: ``skae compare``."""

import subprocess
import sys
import textwrap

import numpy as np

from skae.cli import main


def test_compare_on_digits_prints_table_and_writes_figure(tmp_path, capsys):
    out = tmp_path / "cmp.png"
    assert main(["compare", "--max-epochs", "30", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    # name (24 characters wide), test MSE, ratio to PCA, accuracy, fit seconds
    rows = {
        line[:24].strip(): line[24:].split() for line in text.splitlines()[3:] if line[:1].isalpha()
    }
    assert rows["PCA"][1] == "1.000"
    # Even at 30 epochs the nonlinear autoencoder reconstructs better than PCA.
    assert float(rows["AutoEncoder"][1]) < 1.0
    assert 0.5 < float(rows["AutoEncoder"][2]) <= 1.0  # accuracy on its codes
    assert out.stat().st_size > 10_000 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_on_user_csv_and_npy(tmp_path, capsys):
    rng = np.random.RandomState(0)
    X = np.tanh(rng.normal(size=(300, 3)) @ rng.normal(size=(3, 12)))
    y = (X[:, 0] > 0).astype(int)
    csv = tmp_path / "d.csv"
    header = ",".join([f"f{i}" for i in range(12)] + ["label"])
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", header=header, comments="")
    assert (
        main(
            [
                "compare",
                "--data",
                str(csv),
                "--target",
                "label",
                "--n-components",
                "3",
                "--max-epochs",
                "5",
                "--output",
                "none",
            ]
        )
        == 0
    )
    assert "(300 x 12)" in capsys.readouterr().out
    npy = tmp_path / "d.npy"
    np.save(npy, X)
    assert main(["compare", "--data", str(npy), "--max-epochs", "5", "--output", "none"]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "AutoEncoder" in text and "-" in text.splitlines()[-1]  # no accuracy without labels
    # Progress, one line per method as it ends, on standard error (the table alone on stdout).
    progress = captured.err.splitlines()
    assert len(progress) == 10 and progress[0].startswith("[1/10] PCA ... ")
    assert progress[1].startswith("[2/10] AutoEncoder ... ") and "held-out MSE" in progress[1]


def test_compare_reports_bad_data_clearly(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n")
    assert main(["compare", "--data", str(bad), "--output", "none"]) == 2
    err = capsys.readouterr().err
    assert "line 2, column 'b': 'x' is not a number" in err and "--target b" in err
    gap = tmp_path / "gap.csv"
    gap.write_text("a,b\n1,2\n3,\n")
    assert main(["compare", "--data", str(gap), "--output", "none"]) == 2
    err = capsys.readouterr().err
    assert "line 3, column 'b': the value is missing" in err and "SimpleImputer" in err
    assert "--target" not in err


def test_compare_refuses_more_components_than_features(tmp_path, capsys):
    npy = tmp_path / "d.npy"
    np.save(npy, np.random.RandomState(0).normal(size=(50, 13)))
    assert main(["compare", "--data", str(npy), "--n-components", "20", "--output", "none"]) == 2
    assert "--n-components 20 is more than the 13 features" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "skae", "compare", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--data" in result.stdout
    for default in (
        "(default: 8)",
        "(default: 0.25)",
        "(default: minmax)",
        "(default: 0)",
        "(default: None)",
    ):
        assert default in result.stdout, default


def test_compare_reports_ragged_and_empty_csv(tmp_path, capsys):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    assert main(["compare", "--data", str(ragged), "--output", "none"]) == 2
    assert "line 3" in capsys.readouterr().err
    assert main(["compare", "--data", str(empty), "--output", "none"]) == 2
    assert "no data rows" in capsys.readouterr().err


def test_help_imports_neither_torch_nor_scikit_learn():
    # skae --help answers at once: the package imports its estimators on first use.
    code = textwrap.dedent("""
        import sys
        from skae.cli import main
        try:
            main(["compare", "--help"])
        except SystemExit:
            pass
        print(sorted(name for name in ("torch", "sklearn", "skorch") if name in sys.modules))
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"
