"""The parameter and attribute documentation shared by skae's autoencoders.

A class docstring writes ``{training_parameters}`` and
``{fitted_attributes}`` where the shared sections go, and the class is
decorated with :func:`fill_doc`, which fills them in with the defaults of
the class's own ``__init__`` (imbalanced-learn's ``Substitution`` is the
model).
"""

from __future__ import annotations

import ast
import inspect
import re

TRAINING_PARAMETERS_DOC = """\
    hidden_layer_sizes : int or array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers, from the input inwards; the
        decoder mirrors them. ``()`` gives a single linear map each way; an
        int ``n`` is one hidden layer of width ``n``, as in
        :class:`sklearn.neural_network.MLPRegressor`.

    activation : str or torch.nn.Module subclass, default="relu"
        Activation of the hidden layers: one of ``"relu"``, ``"leaky_relu"``,
        ``"elu"``, ``"selu"``, ``"gelu"``, ``"silu"``, ``"tanh"``,
        ``"sigmoid"``, ``"softplus"``, ``"identity"``, or a module class.

    output_activation : str, torch.nn.Module subclass or None, default=None
        Activation of the reconstruction. ``None`` picks ``"sigmoid"`` for
        ``loss="bce"`` and ``"identity"`` otherwise.

    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss, averaged over features. ``"bce"`` (binary
        cross-entropy) needs every input value in [0, 1].

    max_epochs : int, default=200
        Maximum number of passes over the training data.

    batch_size : int or "auto", default="auto"
        Rows per optimisation step. ``"auto"`` is 64 on the CPU. On CUDA it
        is the largest power of two at most a fiftieth of the training rows,
        kept between 64 and 1024: about 50 steps an epoch, and wide batches
        on large data, where a GPU's steps cost the same at any width. Each
        :meth:`partial_fit` call takes it from the rows of its chunk.

    lr : float, default=1e-3
        Learning rate.

    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch.optim.Optimizer subclass, \
default="adam"
        Optimisation algorithm.

    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.

    penalties : list of callables or None, default=None
        Extra terms added to the training loss, each called as
        ``term(output, target, module)`` and returning a scalar tensor, e.g.
        :class:`skae.penalties.L1Activity` or :class:`skae.penalties.Contractive`.
        They combine with any variant (a sparse denoising autoencoder is a
        ``DenoisingAutoEncoder`` with ``penalties=[L1Activity(1e-3)]``). Only
        the reconstruction loss is reported by ``score``.

    validation_fraction : float or None, default=None
        Fraction of the rows held out to monitor the validation loss for
        early stopping (and to restore the best weights); at least one row
        when positive. The rows are held out even when early stopping is off,
        to record ``validation_loss_curve_``. ``None`` or ``0`` (the default,
        as in :class:`~sklearn.neural_network.MLPRegressor`) trains on all
        rows and monitors the training loss.

    n_iter_no_change : int or None, default=10
        Patience: the monitored loss has stalled when it has not improved by
        a relative ``tol`` for this many epochs. ``None`` disables early
        stopping and the learning-rate schedule.

    tol : float, default=1e-4
        Relative improvement of the monitored loss that counts as progress.

    lr_schedule : {"plateau", "constant", "cosine"}, default="plateau"
        How the learning rate moves, and what a stall does. ``"plateau"``
        divides the learning rate by 10 at a stall, at most twice, and stops
        training at the third stall; ``"constant"`` keeps the learning rate
        and stops at the first; ``"cosine"`` anneals it from ``lr`` to near
        zero over ``max_epochs`` along a half cosine, and stops at the first
        stall (set ``n_iter_no_change=None`` to run every epoch). Either way
        the model keeps the weights of the best epoch. Use ``"constant"``
        when one of ``callbacks`` schedules the learning rate itself.

    device : str, default="auto"
        Torch device to train on. ``"auto"`` uses CUDA when available,
        otherwise the CPU. A fitted model runs on the device that holds its
        weights, so one fitted on a GPU still loads and transforms on a
        machine without one.

    distributed : "auto" or bool, default="auto"
        Whether to train data-parallel across the processes of a launch.
        With ``"auto"``, a script started as several processes by
        ``torchrun --nproc_per_node=N`` (or ``accelerate launch``) trains
        one model in all of them: every process must call ``fit`` with
        the same rows (a fit in only some processes waits for the others);
        each takes its share of every batch, gradients are averaged after
        each step, and every process ends with the same weights.
        ``batch_size`` is then the global batch, split between the
        processes, so a step is the one a single process would take.
        Training uses gloo on the CPU and NCCL on CUDA, one GPU per process
        (``LOCAL_RANK``); only rank 0 shows progress. ``True`` requires a
        launch; ``False`` trains each process alone, as without one.

    precision : {"32", "bf16-mixed", "16-mixed"}, default="32"
        Precision of training's forward passes. ``"bf16-mixed"`` runs them
        under ``torch.autocast`` in bfloat16, on CUDA or the CPU;
        ``"16-mixed"`` in float16 with a gradient scaler, on CUDA only. The
        weights stay float32, the loss is computed in float32, and
        inference runs in the input's precision, so saved models and ONNX
        export do not depend on it.

    compile : bool or str, default=False
        Run training's forward and backward passes through
        ``torch.compile``. ``True`` takes the mode measured fastest on the
        device (``"default"`` on the CPU, ``"reduce-overhead"``, with CUDA
        graphs, on CUDA); a string names the mode (off CUDA, the modes that
        use CUDA graphs run without them). The first epochs pay for
        compiling, so it suits long fits. It needs a C++ compiler on the
        CPU and Triton on CUDA, and says so when they are missing.

    n_jobs : int or None, default=None
        CPU threads torch uses for this estimator's training and inference,
        set only while they run (torch's own setting, and that of other
        threads, is left as it was). ``None`` picks by the network's size:
        one thread when a batch is too small to gain from more, which also
        keeps small models fast on a busy machine, else torch's current
        setting. ``-1`` uses every core. With an int ``random_state``,
        results are reproducible for a given thread count.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split and shuffling
        through local generators; global random state is never read or
        changed, so fits in parallel threads do not disturb each other. With
        an int, fitting on the same device is reproducible.

    verbose : int, default=0
        ``0`` prints nothing, ``1`` shows a progress bar with the epoch and
        the train and validation loss, ``2`` prints a table row per epoch.

    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (instances, or ``(name, callback)`` tuples),
        deep-copied at each ``fit`` so that the parameter itself is left as
        given (a callback that cannot be copied is used as is). Per-batch
        losses are recorded in the history only when some callback listens
        to batch events."""

FITTED_ATTRIBUTES_DOC = """\
    net_ : skorch.NeuralNet
        The training engine, for inspection: the fitted module (``net_.module_``),
        the history and the callbacks. Use the estimator's own methods for
        inference; the net's ``predict`` and ``partial_fit`` are not supported.

    encoder_ : torch.nn.Module
        The fitted encoder, usable as a pretrained feature extractor.

    decoder_ : torch.nn.Module
        The fitted decoder.

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : list of float
        Training loss at each epoch.

    validation_loss_curve_ : list of float or None
        Validation loss at each epoch, when a validation fraction was held out.

    best_loss_ : float
        Monitored loss (validation loss when held out, else training loss) of
        the epoch whose weights the model holds: with early stopping, the last
        epoch that improved on the best so far by more than ``tol``; without,
        the last epoch.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during ``fit``, when ``X`` has string column names."""


def document_defaults(doc: str, defaults: dict) -> str:
    """``doc`` with every ``name : type, default=value`` line showing ``defaults[name]``.

    Shared parameter sections are written once, with the base class's
    defaults; a class that changes a default gets its own value in its
    docstring.
    """

    def fix(match):
        name, kind, shown = match.groups()
        if name not in defaults:
            return match.group(0)
        try:
            if ast.literal_eval(shown) == defaults[name]:
                return match.group(0)
        except (ValueError, SyntaxError):
            return match.group(0)
        value = defaults[name]
        text = f'"{value}"' if isinstance(value, str) else repr(value)
        return f"    {name} : {kind}, default={text}"

    return re.sub(r"^    (\w+) : (.*), default=(.+)$", fix, doc, flags=re.MULTILINE)


def fill_doc(cls=None, *, omit=(), **sections):
    """Class decorator: fill in the shared sections of ``cls``'s docstring.

    Parameters
    ----------
    cls : type
        The class whose docstring holds ``{training_parameters}`` and
        ``{fitted_attributes}``, or the placeholders of ``sections``.
    omit : tuple of str, default=()
        Shared parameters the class documents itself, with its own meaning.
    **sections : str
        Other shared sections, by placeholder name; the placeholder
        ``{name}`` is replaced by the text.

    Returns
    -------
    cls : type
        The class, its docstring filled in; each shared default shown is the
        default of ``cls.__init__``.

    Examples
    --------
    >>> from skae._docstring import fill_doc
    >>> @fill_doc
    ... class Shallow:
    ...     '''A network trained for five epochs.\\n\\n    {training_parameters}'''
    ...     def __init__(self, *, max_epochs=5):
    ...         self.max_epochs = max_epochs
    >>> "max_epochs : int, default=5" in Shallow.__doc__
    True
    """
    if cls is None:
        return lambda klass: fill_doc(klass, omit=omit, **sections)
    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    entries = [
        entry
        for entry in TRAINING_PARAMETERS_DOC.split("\n\n")
        if entry.split(" :", 1)[0].strip() not in omit
    ]
    sections = {
        "training_parameters": "\n\n".join(entries),
        "fitted_attributes": FITTED_ATTRIBUTES_DOC,
        **sections,
    }
    doc = cls.__doc__
    for name, text in sections.items():
        # The placeholders stand indented like the sections around them; the text brings its own.
        doc = doc.replace(f"    {{{name}}}", document_defaults(text, defaults))
    cls.__doc__ = doc
    return cls
