"""SMOTETomek: SMOTE then TomekLinks, imbalanced-learn's semantics."""

from __future__ import annotations

from imblearn.under_sampling import TomekLinks as _ImblearnTomekLinks

from gpusmote.combine._base import CombinedSampler
from gpusmote.under_sampling import TomekLinks


class SMOTETomek(CombinedSampler):
    """Over-sample with SMOTE, then remove Tomek's links.

    A drop-in replacement for :class:`imblearn.combine.SMOTETomek`: the same
    parameters, validation and output (bit-identical for an int
    ``random_state`` on data without distance ties), with gpusmote's
    :class:`~gpusmote.SMOTE` and :class:`~gpusmote.under_sampling.TomekLinks`
    as the default steps.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        The over-sampling target of the default SMOTE (ignored when ``smote``
        is given), as in imbalanced-learn.
    random_state : int, RandomState instance or None, default=None
        Seeds the default SMOTE (ignored when ``smote`` is given).
    smote : SMOTE, default=None
        gpusmote's or imbalanced-learn's ``SMOTE`` (or a subclass: SMOTENC,
        SMOTEN), cloned. None: ``gpusmote.SMOTE(sampling_strategy,
        random_state, device=device)``.
    tomek : TomekLinks, default=None
        gpusmote's or imbalanced-learn's, cloned. None:
        ``gpusmote.under_sampling.TomekLinks(sampling_strategy='all',
        n_jobs=n_jobs, device=device)``.
    n_jobs : int, default=None
        Passed to the default TomekLinks.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where the default steps run; a given step keeps its own.
    ties : {'imblearn', 'index'}, default='imblearn'
        The default steps' tie handling (see :class:`gpusmote.SMOTE`);
        a given step keeps its own.

    Attributes
    ----------
    sampling_strategy_ : the ``sampling_strategy`` parameter, as imbalanced-learn stores it.
    smote_ : the fitted SMOTE step.
    tomek_ : the fitted TomekLinks step.
    device_ : str
        The device of the cleaning step (``'cpu'`` for imbalanced-learn's).
    timings_ : dict
        Seconds per phase, summed over the steps that report them.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        When X was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote import SMOTETomek
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 3))
    >>> y = np.array([0] * 100 + [1] * 20)
    >>> X_res, y_res = SMOTETomek(random_state=0).fit_resample(X, y)
    >>> bool(len(y_res) <= 200)
    True
    """

    _cleaner_param = "tomek"
    # TomekLinks' one-neighbour search of SMOTE's output is quick on scikit-learn's
    # tree: the kernels pay from ~24,000 rows given (8 columns, fresh processes on
    # the 2-core VM: 20,000 rows, imbalanced-learn 516-529 ms, the small path
    # 504-535 ms, the kernels 567-619 ms; 24,000: 725-734, 705-710, 728-739 ms;
    # 28,000: 978-1042, 1027-1050, 870-887 ms).
    _cold_row_scale = 1.5
    _parameter_constraints: dict = {
        **CombinedSampler._parameter_constraints,
        "tomek": [_ImblearnTomekLinks, None],  # gpusmote's is a subclass
    }

    def __init__(self, *, sampling_strategy="auto", random_state=None, smote=None, tomek=None,
                 n_jobs=None, device="auto", ties="imblearn"):
        super().__init__()
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.smote = smote
        self.tomek = tomek
        self.n_jobs = n_jobs
        self.device = device
        self.ties = ties

    def _default_cleaner(self):
        return TomekLinks(sampling_strategy="all", n_jobs=self.n_jobs, device=self.device, ties=self.ties)
