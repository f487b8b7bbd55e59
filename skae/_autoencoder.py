"""The plain (vanilla or deep) autoencoder."""

from ._base import BaseAutoEncoder
from ._docstring import fill_doc


@fill_doc
class AutoEncoder(BaseAutoEncoder):
    """Autoencoder transformer: a nonlinear, PCA-like dimensionality reduction.

    An encoder network maps each row to a code of ``n_components`` values
    and a mirrored decoder maps the code back; both are trained together to
    minimise the reconstruction loss

    .. math:: \\frac{1}{n}\\sum_i \\ell\\big(x_i,\\ g(f(x_i))\\big)

    with :math:`\\ell` the mean squared error (or binary cross-entropy) over
    features. :meth:`transform` returns the code :math:`f(x)` and
    :meth:`inverse_transform` the reconstruction :math:`g(z)`.
    With ``activation="identity"`` and ``hidden_layer_sizes=()`` it is a
    linear autoencoder, whose optimum spans PCA's subspace.

    The network trains in float32 with PyTorch (on the GPU when there is
    one), through a skorch net built inside :meth:`fit` (``net_``).

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.

    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoder
    >>> X = load_digits().data / 16.0
    >>> ae = AutoEncoder(n_components=8, max_epochs=20, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 8)
    >>> ae.inverse_transform(ae.transform(X[:3])).shape
    (3, 64)
    >>> ae.get_feature_names_out()[:2]
    array(['autoencoder0', 'autoencoder1'], dtype=object)
    """
