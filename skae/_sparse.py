"""Sparse autoencoder: a penalty keeps most code units inactive."""

from numbers import Real

from ._base import BaseAutoEncoder
from ._docstring import fill_doc
from ._utils import Interval, ModuleClass, StrOptions
from .nn.modules import ACTIVATIONS
from .nn.penalties import KLSparsity, L1Activity

_DEFAULT_WEIGHT = {"kl": 0.1, "l1": 1e-3}
_DEFAULT_CODE_ACTIVATION = {"kl": "sigmoid", "l1": "relu"}


@fill_doc
class SparseAutoEncoder(BaseAutoEncoder):
    """Autoencoder whose code is kept sparse by a penalty on its activations.

    With ``sparsity="kl"`` (Ng, 2011) the code units are sigmoids and the
    batch mean activation :math:`\\hat\\rho_j` of each unit is pulled toward
    ``sparsity_target`` :math:`\\rho`:

    .. math:: \\ell(x, \\hat x) + \\lambda \\sum_j \\mathrm{KL}(\\rho \\,\\|\\, \\hat\\rho_j)

    With ``sparsity="l1"`` the code units are ReLUs and their L1 norm is
    penalised, :math:`\\ell(x, \\hat x) + \\lambda \\lVert f(x) \\rVert_1`, which
    drives many of them to exactly zero. Sparse codes can be wider than the
    input (overcomplete) and still be useful features, since the penalty,
    not the width, keeps the network from copying its input.

    Read more in the :ref:`User Guide <sparse>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.

    sparsity : {"kl", "l1"}, default="kl"
        The penalty: KL divergence to a target mean activation, or L1 norm.

    sparsity_target : float, default=0.05
        Target mean activation of each code unit (``sparsity="kl"`` only).

    sparsity_weight : float or None, default=None
        The penalty's weight :math:`\\lambda`; ``None`` means 0.1 for
        ``"kl"`` and 1e-3 for ``"l1"``.

    code_activation : str, torch.nn.Module subclass or None, default=None
        Activation of the code; ``None`` means ``"sigmoid"`` for ``"kl"``
        (which needs codes in (0, 1)) and ``"relu"`` for ``"l1"``.

    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    skae.penalties.L1Activity : The L1 term, to add to any estimator.
    skae.penalties.KLSparsity : The KL term, to add to any estimator.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> sae = SparseAutoEncoder(n_components=32, sparsity_target=0.05, max_epochs=20,
    ...                         random_state=0).fit(X)
    >>> codes = sae.transform(X)
    >>> codes.shape, bool(codes.mean() < 0.2)
    ((1797, 32), True)
    """

    _regularised_code = True  # a wide code is kept informative (see BaseAutoEncoder)
    _parameter_constraints = {
        **BaseAutoEncoder._parameter_constraints,
        "sparsity": [StrOptions({"kl", "l1"})],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left"), None],
        "code_activation": [StrOptions(set(ACTIVATIONS)), ModuleClass(), None],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        output_activation=None,
        loss="mse",
        max_epochs=200,
        batch_size="auto",
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        penalties=None,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule="plateau",
        device="auto",
        distributed="auto",
        precision="32",
        compile=False,
        n_jobs=None,
        random_state=None,
        verbose=0,
        callbacks=None,
        sparsity="kl",
        sparsity_target=0.05,
        sparsity_weight=None,
        code_activation=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.penalties = penalties
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.lr_schedule = lr_schedule
        self.device = device
        self.distributed = distributed
        self.precision = precision
        self.compile = compile
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.sparsity = sparsity
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.code_activation = code_activation

    def _resolved_code_activation(self):
        if self.code_activation is not None:
            return self.code_activation
        return _DEFAULT_CODE_ACTIVATION[self.sparsity]

    def _penalties(self) -> list:
        weight = self.sparsity_weight
        if weight is None:
            weight = _DEFAULT_WEIGHT[self.sparsity]
        if self.sparsity == "kl":
            return [KLSparsity(self.sparsity_target, weight)]
        return [L1Activity(weight)]

    def _check_params(self, X=None) -> None:
        super()._check_params(X)
        if self.sparsity == "kl" and self._resolved_code_activation() not in ("sigmoid",):
            raise ValueError(
                "sparsity='kl' needs code activations in (0, 1): leave code_activation=None "
                "(sigmoid) or set code_activation='sigmoid'; use sparsity='l1' for other codes."
            )
