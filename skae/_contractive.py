"""Contractive autoencoder: a code that is insensitive to small input changes."""

from numbers import Real

from ._base import BaseAutoEncoder
from ._docstring import fill_doc
from ._utils import Interval, ModuleClass, StrOptions
from .nn.modules import ACTIVATIONS
from .nn.penalties import Contractive


@fill_doc
class ContractiveAutoEncoder(BaseAutoEncoder):
    """Autoencoder with a penalty on the encoder's Jacobian (Rifai et al. 2011).

    The objective adds the squared Frobenius norm of the Jacobian of the
    encoder :math:`f` at each training row:

    .. math:: \\ell(x, g(f(x))) + \\lambda \\left\\lVert \\frac{\\partial f(x)}{\\partial x}
              \\right\\rVert_F^2

    The code then changes little when the input moves off the data
    manifold, while reconstruction keeps it sensitive along the manifold.
    The norm is exact: in closed form for a single sigmoid layer
    (``hidden_layer_sizes=()``, ``code_activation="sigmoid"``), otherwise from
    the batched Jacobian (``torch.func``), at a cost of about one backward
    pass per code unit (see :func:`skae.penalties.jacobian_frobenius`).

    Read more in the :ref:`User Guide <contractive>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.

    contractive_weight : float, default=1e-3
        The penalty's weight :math:`\\lambda`.

    code_activation : str, torch.nn.Module subclass or None, default=None
        Activation of the code; ``None`` means a linear code.

    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    skae.penalties.Contractive : The same term, to add to any estimator.
    DenoisingAutoEncoder : Robustness to input noise learnt from corrupted samples.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ContractiveAutoEncoder
    >>> from skae.penalties import jacobian_frobenius
    >>> X = load_digits().data / 16.0
    >>> cae = ContractiveAutoEncoder(n_components=8, max_epochs=10, random_state=0).fit(X)
    >>> cae.transform(X).shape
    (1797, 8)
    """

    _regularised_code = True  # a wide code is kept informative (see BaseAutoEncoder)
    _parameter_constraints = {
        **BaseAutoEncoder._parameter_constraints,
        "contractive_weight": [Interval(Real, 0, None, closed="left")],
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
        contractive_weight=1e-3,
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
        self.contractive_weight = contractive_weight
        self.code_activation = code_activation

    def _resolved_code_activation(self):
        return self._code_activation if self.code_activation is None else self.code_activation

    def _penalties(self) -> list:
        return [Contractive(self.contractive_weight)]
