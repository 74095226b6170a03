r"""The regularizer of Eq. 1 as differentiable PyTorch functions (theory §6).

``L̃(W) = L(W) + λ R_1 + μ R_2 + ψ R_3 + ν ‖W‖_∞`` for a PyTorch model (an
``nn.Sequential`` of ``Linear``/``Conv2d``/activations or any module whose
crash sites are submodules, as :func:`symft.io.torch.from_torch` converts)
and a batch of inputs:

* :func:`crash_sensitivities` — T1's ``g_i = ∂y/∂ξ_i = (c_i − y_i)·∂y/∂y_i``
  for crashes at chosen sites (semantics ``"output_zero"``: ``c = 0``, so
  ``g_i = −y_i ∂y/∂y_i``), by autodiff with ``create_graph=True`` so that
  everything built from them can be trained through;
* :func:`t1_variance` — T1's first-order variance of the output change (or of
  the per-example loss change), ``Σ_s p_s (1 − p_s) Σ_i g_{s,i}²`` (the exact
  first-order form, erratum E4): the same numbers as
  :func:`symft.engines.taylor.t1` (its ``var``) on ``from_torch(model)``;
* :func:`r1` — ``R_1``: that variance summed over the outputs and averaged
  over the batch;
* :func:`balance`, :func:`r2` — AA1's balance ``q = min_i W^i / max_i W^i``
  (``W^i = Σ_j |W^{ij}|``, as :func:`symft.graph.network.layer_norms`) and
  ``R_2`` in both forms: ``"inverse"``, ``(max/min)² = 1/q²``, what Eq. 1
  and the authors' code penalise, and ``"printed"``, ``q²`` as the text
  names it — which rewards imbalance (erratum E7);
* :func:`smoothness`, :func:`r3` — ``R_3 = C_1 + C_2 + C_3`` with the
  normalisation of :func:`symft.theory.continuous.smoothness`;
* :func:`weight_max` — ``‖W‖_∞``, the largest ``|w|`` over the weights of
  the chosen layers (``W`` is the vector of weights Eq. 1 trains);
* :class:`Regularizer` — the weighted sum, returning each term.

torch is an optional dependency (``pip install symft[torch]``), imported
only when one of these functions runs.

Examples
--------
>>> import torch
>>> from torch import nn
>>> torch.manual_seed(0) and None
>>> model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2)).double()
>>> x = torch.rand(5, 3, dtype=torch.float64)
>>> reg = Regularizer(p={"1": 1e-3}, lam=1.0, mu=0.01)
>>> total, terms = reg(model, x)
>>> sorted(terms), bool(total > 0)
(['r1', 'r2', 'r3', 'w_inf'], True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import FaultModelError, InvalidArgument, MissingDependency
from ..faults import check_probability

__all__ = [
    "R2_FORMS",
    "crash_sensitivities",
    "t1_variance",
    "r1",
    "weight_layers",
    "balance",
    "r2",
    "smoothness",
    "r3",
    "weight_max",
    "Regularizer",
]

#: The forms of the balance term: ``"inverse"`` = ``1/q²`` (Eq. 1, the authors' code), ``"printed"`` = ``q²``
#: (the text; rewards imbalance, erratum E7).
R2_FORMS = ("inverse", "printed")
_INSTALL = "pip install symft[torch]"


def _torch():
    try:
        import torch
    except ImportError:
        raise MissingDependency(f"the training regularizer needs torch: {_INSTALL}") from None
    return torch


# ---------------------------------------------------------------------- R_1: T1 by autodiff

def _site_probabilities(p) -> dict:
    if not isinstance(p, Mapping) or not p:
        raise FaultModelError(f"p: expected a non-empty mapping {{site: probability}}, got {p!r}")
    out = {}
    for s, q in p.items():
        name = str(s)
        q = check_probability(q, f"p[{name!r}]")
        try:
            q = float(q)
        except TypeError:
            raise FaultModelError(f"p[{name!r}]: expected a numeric probability, got {q}") from None
        if q > 0:
            out[name] = q
    if not out:
        raise FaultModelError("p: expected at least one site with a non-zero crash probability")
    return out


def _output_matrix(y):
    return y.reshape(y.shape[0], -1)


def _crashed_forward(model, x, sites):
    """Run ``model(x)`` with the output of each site ``s`` multiplied by ``1 − ξ_s`` (``ξ_s = 0``): returns
    ``(output, {site: (ξ_s, y_s)})`` with ``y_s`` the clean site values."""
    torch = _torch()
    modules = dict(model.named_modules())
    for s in sites:
        if s != "input" and (s not in modules or s == ""):
            names = ", ".join(repr(n) for n in modules if n) or "none"
            raise FaultModelError(f"p: site {s!r} is not 'input' nor a submodule of the model (submodules: {names})")
    xis = {}
    handles = []

    def hook_for(name):
        def hook(module, inputs, output):
            if name in xis:
                raise InvalidArgument(f"p: site {name!r} is a module called more than once in one pass; "
                                      f"crash sites must be called once")
            xi = torch.zeros_like(output, requires_grad=True)
            xis[name] = (xi, output)
            return output * (1 - xi)
        return hook

    try:
        for s in sites:
            if s != "input":
                handles.append(modules[s].register_forward_hook(hook_for(s)))
        if "input" in sites:
            xi = torch.zeros_like(x, requires_grad=True)
            xis["input"] = (xi, x)
            x = x * (1 - xi)
        y = model(x)
    finally:
        for h in handles:
            h.remove()
    missing = [s for s in sites if s not in xis]
    if missing:
        raise FaultModelError(f"p: site {missing[0]!r} is not called by the model's forward pass")
    return y, xis


def crash_sensitivities(model, x, sites, *, of: str = "output", loss_fn=None, target=None,
                        create_graph: bool = True) -> dict:
    r"""T1's sensitivities ``g_{s,i} = ∂y/∂ξ_{s,i} = −y_{s,i} ∂y/∂y_{s,i}`` at ``ξ = 0``, by autodiff.

    A crash of neuron ``i`` of site ``s`` multiplies its output by
    ``1 − ξ_{s,i}`` (semantics ``"output_zero"``); the derivative is taken per
    example (the examples of a batch do not interact, so one backward pass of
    the batch sum serves the whole batch — not so for ``BatchNorm`` in training
    mode, which couples them).

    Parameters
    ----------
    model : torch.nn.Module
        Sites are ``"input"`` or names of submodules (``model.named_modules()``;
        for ``nn.Sequential`` the indices ``"1"``, ``"3"`` — the activation
        modules are symft's sites, as :func:`symft.io.torch.from_torch` names
        them).  Each site must be called once per forward pass.
    x : torch.Tensor
        A batch, batch axis first.
    sites : iterable of str or int
    of : {"output", "loss"}
        Differentiate the outputs (flattened per example: ``K`` backward
        passes) or the per-example loss ``loss_fn(model(x), target)`` (one).
    loss_fn : callable, optional
        With ``of="loss"``: returns one loss per example (``reduction="none"``).
    target : torch.Tensor, optional
        With ``of="loss"``.
    create_graph : bool
        Keep the graph of the derivatives (to train through them).

    Returns
    -------
    dict {site: torch.Tensor}
        Shape ``(B, K, n_s)`` (``of="output"``, ``K`` outputs, site values
        flattened row-major) or ``(B, n_s)`` (``of="loss"``).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> lin = nn.Linear(2, 1).double()
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[2.0, 3.0]])); _ = lin.bias.zero_()
    >>> g = crash_sensitivities(nn.Sequential(lin), torch.tensor([[1.0, 1.0]], dtype=torch.float64), ["input"])
    >>> g["input"].tolist()          # ∂y/∂ξ_i = −x_i w_i
    [[[-2.0, -3.0]]]
    """
    torch = _torch()
    sites = [str(s) for s in sites]
    if not sites:
        raise FaultModelError("sites: expected at least one crash site")
    if of not in ("output", "loss"):
        raise InvalidArgument(f"of: expected 'output' or 'loss', got {of!r}")
    if of == "loss" and (loss_fn is None or target is None):
        raise InvalidArgument("loss_fn, target: both are needed with of='loss'")
    with torch.enable_grad():
        y, xis = _crashed_forward(model, x, sites)
        leaves = [xis[s][0] for s in sites]
        B = x.shape[0]
        if of == "loss":
            ell = loss_fn(y, target)
            if ell.shape != (B,):
                raise InvalidArgument(f"loss_fn: expected one loss per example, shape ({B},), got {tuple(ell.shape)}"
                                      f" (use reduction='none')")
            gs = torch.autograd.grad(ell.sum(), leaves, create_graph=create_graph, allow_unused=True)
            out = {}
            for s, g, (xi, ys) in zip(sites, gs, (xis[s] for s in sites)):
                out[s] = (torch.zeros_like(xi) if g is None else g).reshape(B, -1)
            return out
        Y = _output_matrix(y)
        per = {s: [] for s in sites}
        K = Y.shape[1]
        for k in range(K):
            gs = torch.autograd.grad(Y[:, k].sum(), leaves, create_graph=create_graph, retain_graph=True,
                                     allow_unused=True)
            for s, g in zip(sites, gs):
                per[s].append((torch.zeros_like(xis[s][0]) if g is None else g).reshape(B, -1))
        return {s: torch.stack(per[s], dim=1) for s in sites}


def t1_variance(model, x, p, *, of: str = "output", loss_fn=None, target=None, create_graph: bool = True,
                paper: bool = False):
    r"""T1's first-order ``Var Δ`` by autodiff: ``Σ_s p_s (1 − p_s) Σ_i g_{s,i}²`` (``paper=True``: ``p_s``).

    Equals :func:`symft.engines.taylor.t1`'s ``var`` (``var_paper`` with
    ``paper=True``) on ``from_torch(model)`` to rounding.

    Parameters
    ----------
    model, x, of, loss_fn, target, create_graph
        As :func:`crash_sensitivities`.
    p : mapping {site: probability}
    paper : bool
        The factor ``p`` as T1 is printed instead of ``p(1 − p)`` (erratum E4).

    Returns
    -------
    torch.Tensor
        ``(B, K)`` per example and output, or ``(B,)`` with ``of="loss"``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> mean = nn.Linear(4, 1, bias=False).double()
    >>> _ = torch.nn.init.constant_(mean.weight, 0.25)
    >>> x = torch.ones(1, 4, dtype=torch.float64)
    >>> t1_variance(nn.Sequential(mean), x, {"input": 0.1}).tolist()   # p(1 − p)/n (theory §4)
    [[0.0225]]
    """
    probs = _site_probabilities(p)
    g = crash_sensitivities(model, x, list(probs), of=of, loss_fn=loss_fn, target=target,
                            create_graph=create_graph)
    total = None
    for s, q in probs.items():
        f = q if paper else q * (1.0 - q)
        t = f * (g[s] * g[s]).sum(dim=-1)
        total = t if total is None else total + t
    return total


def r1(model, x, p, *, of: str = "output", loss_fn=None, target=None, create_graph: bool = True):
    r"""``R_1``: T1's ``Var Δ`` (:func:`t1_variance`) summed over the outputs and averaged over the batch.

    (Eq. 1 writes ``R_1 ≈ Var Δ / p_l``; the factor is absorbed into ``λ``.)

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(4, 1, bias=False)).double()
    >>> _ = torch.nn.init.constant_(model[0].weight, 0.25)
    >>> float(r1(model, torch.ones(3, 4, dtype=torch.float64), {"input": 0.1}).detach())
    0.0225
    """
    v = t1_variance(model, x, p, of=of, loss_fn=loss_fn, target=target, create_graph=create_graph)
    if v.dim() == 2:
        v = v.sum(dim=1)
    return v.mean()


# ---------------------------------------------------------------------- weights: R_2, R_3, ‖W‖_∞

def weight_layers(model, layers=None) -> list:
    """The ``(name, weight)`` pairs of the chosen ``Linear``/``Conv2d`` layers (all by default), in order.

    A ``Conv2d`` weight ``(C_out, C_in, kh, kw)`` is used as the matrix ``(C_out, C_in·kh·kw)``: row ``i``
    holds the incoming weights of output channel ``i``.

    Examples
    --------
    >>> from torch import nn
    >>> [n for n, _ in weight_layers(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))]
    ['0', '2']
    """
    torch = _torch()
    found = [(n, m) for n, m in model.named_modules()
             if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    if layers is not None:
        names = [str(l) for l in layers]
        have = dict(found)
        for n in names:
            if n not in have:
                raise InvalidArgument(f"layers: {n!r} is not a Linear or Conv2d submodule "
                                      f"(those are: {', '.join(repr(k) for k, _ in found) or 'none'})")
        found = [(n, have[n]) for n in names]
    if not found:
        raise InvalidArgument("layers: the model has no Linear or Conv2d layer")
    return [(n, m.weight.reshape(m.weight.shape[0], -1)) for n, m in found]


def balance(W):
    r"""AA1's balance ``q = min_i W^i / max_i W^i`` with ``W^i = Σ_j |W^{ij}|`` (differentiable).

    Examples
    --------
    >>> import torch
    >>> float(balance(torch.tensor([[1.0, -1.0], [0.5, 0.0]])))
    0.25
    """
    totals = W.abs().sum(dim=1)
    return totals.min() / totals.max()


def r2(model, layers=None, *, form: str = "inverse"):
    r"""``R_2``: the balance term summed over the layers — ``1/q²`` (``"inverse"``) or ``q²`` (``"printed"``).

    Eq. 1 and the authors' code penalise ``(max_i W^i / min_i W^i)² = 1/q²``,
    which is smallest for balanced layers (``q = 1``); the text calls the
    term ``q²``, and penalising that drives ``q`` towards 0 — unbalanced
    layers (erratum E7).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> lin = nn.Linear(2, 2, bias=False)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[1.0, 1.0], [0.5, 0.5]]))
    >>> r2(lin).item(), r2(lin, form="printed").item()
    (4.0, 0.25)
    """
    if form not in R2_FORMS:
        raise InvalidArgument(f"form: expected one of {', '.join(map(repr, R2_FORMS))}, got {form!r}")
    total = 0
    for _, W in weight_layers(model, layers):
        q = balance(W)
        total = total + (1.0 / (q * q) if form == "inverse" else q * q)
    return total


def _gauss(n, sigma, like):
    torch = _torch()
    c = (np.arange(n) + 1.0) / n
    G = np.exp(-0.5 * ((c[:, None] - c[None, :]) / sigma) ** 2)
    return torch.as_tensor(G / G.sum(axis=1, keepdims=True), dtype=like.dtype, device=like.device)


def smoothness(W, *, sigma: float = 0.05) -> tuple:
    r"""``(C_1, C_2, C_3)`` of Eq. 1 for a weight matrix, differentiable.

    The definitions and normalisation of :func:`symft.theory.continuous.smoothness`:
    ``C_1 = Σ_ij |W^{i+1,j} − W^{ij}|``, ``C_2 = (n_0/n_1) Σ_ij |W^{i,j+1} − W^{ij}|``,
    ``C_3 = (1/n_1) Σ_ij |W − G_σ W G_σᵀ|^{ij}``.

    Examples
    --------
    >>> import torch
    >>> [float(c) for c in smoothness(torch.ones(4, 4) / 4)]
    [0.0, 0.0, 0.0]
    """
    if not sigma > 0:
        raise InvalidArgument(f"sigma: expected a positive number, got {sigma!r}")
    n1, n0 = W.shape
    C1 = (W[1:] - W[:-1]).abs().sum()
    C2 = (n0 / n1) * (W[:, 1:] - W[:, :-1]).abs().sum()
    Ws = _gauss(n1, sigma, W) @ W @ _gauss(n0, sigma, W).T
    C3 = (W - Ws).abs().sum() / n1
    return C1, C2, C3


def r3(model, layers=None, *, sigma: float = 0.05):
    r"""``R_3 = Σ_layers (C_1 + C_2 + C_3)`` (:func:`smoothness`).

    Examples
    --------
    >>> from torch import nn
    >>> import torch
    >>> lin = nn.Linear(3, 3, bias=False)
    >>> _ = torch.nn.init.constant_(lin.weight, 0.5)
    >>> r3(lin).item()
    0.0
    """
    total = 0
    for _, W in weight_layers(model, layers):
        total = total + sum(smoothness(W, sigma=sigma))
    return total


def weight_max(model, layers=None):
    r"""``‖W‖_∞``: the largest ``|w|`` over the weights of the chosen layers (biases excluded).

    Examples
    --------
    >>> from torch import nn
    >>> import torch
    >>> lin = nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[1.0, -3.0], [0.5, 2.0]]))
    >>> weight_max(lin).item()
    3.0
    """
    torch = _torch()
    return torch.stack([W.abs().max() for _, W in weight_layers(model, layers)]).max()


# ---------------------------------------------------------------------- Eq. 1

def _weight(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
        raise InvalidArgument(f"{name}: expected a non-negative number, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class Regularizer:
    r"""Eq. 1: ``λ R_1 + μ R_2 + ψ R_3 + ν ‖W‖_∞`` (the loss itself is added by the trainer).

    Attributes
    ----------
    p : mapping {site: probability}
        The crash sites and probabilities of ``R_1``.
    lam, mu, psi, nu : float
        ``λ, μ, ψ, ν`` (non-negative; a zero weight skips its term's cost but
        the term is still reported).
    of : {"output", "loss"}
        ``R_1`` of the output change or of the per-example loss change.
    r2_form : {"inverse", "printed"}
        ``1/q²`` (Eq. 1) or ``q²`` (the text, erratum E7).
    layers : tuple of str, optional
        Layers of ``R_2``, ``R_3``, ``‖W‖_∞`` (default: every Linear/Conv2d).
    sigma : float
        ``C_3``'s Gaussian width.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)).double()
    >>> total, terms = Regularizer(p={"1": 0.01}, lam=2.0)(model, torch.zeros(3, 2, dtype=torch.float64))
    >>> bool(torch.isclose(total, 2.0 * terms["r1"]))
    True
    """

    p: Mapping = field(default_factory=dict)
    lam: float = 0.0
    mu: float = 0.0
    psi: float = 0.0
    nu: float = 0.0
    of: str = "output"
    r2_form: str = "inverse"
    layers: tuple | None = None
    sigma: float = 0.05

    def __post_init__(self):
        for name in ("lam", "mu", "psi", "nu"):
            object.__setattr__(self, name, _weight(getattr(self, name), name))
        if self.r2_form not in R2_FORMS:
            raise InvalidArgument(f"r2_form: expected one of {', '.join(map(repr, R2_FORMS))}, got {self.r2_form!r}")
        if self.of not in ("output", "loss"):
            raise InvalidArgument(f"of: expected 'output' or 'loss', got {self.of!r}")
        if self.p:
            object.__setattr__(self, "p", _site_probabilities(self.p))
        elif self.lam > 0:
            raise FaultModelError("p: lam > 0 needs crash sites and probabilities")
        if self.layers is not None:
            object.__setattr__(self, "layers", tuple(str(l) for l in self.layers))

    def __call__(self, model, x, *, loss_fn=None, target=None, all_terms: bool = True):
        """``(total, terms)``: the weighted sum and ``{"r1", "r2", "r3", "w_inf"}`` as tensors.

        Terms with a zero weight are computed without a graph, and only with
        ``all_terms`` (else left out: the trainer skips them between reports);
        ``r1`` needs sites (``p``).

        Examples
        --------
        >>> import torch
        >>> from torch import nn
        >>> model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)).double()
        >>> _, terms = Regularizer(p={"1": 0.01}, mu=1.0)(model, torch.zeros(3, 2, dtype=torch.float64),
        ...                                                all_terms=False)
        >>> sorted(terms)
        ['r2']
        """
        torch = _torch()
        weights = {"r1": self.lam, "r2": self.mu, "r3": self.psi, "w_inf": self.nu}
        wanted = [k for k, w in weights.items() if all_terms or w > 0]
        terms = {}
        grad = torch.is_grad_enabled()
        for k in wanted:
            with torch.set_grad_enabled(grad and weights[k] > 0):
                if k == "r1":
                    if self.p:
                        terms[k] = r1(model, x, self.p, of=self.of, loss_fn=loss_fn, target=target,
                                      create_graph=grad and weights[k] > 0)
                    else:
                        terms[k] = torch.zeros((), dtype=x.dtype)
                elif k == "r2":
                    terms[k] = r2(model, self.layers, form=self.r2_form)
                elif k == "r3":
                    terms[k] = r3(model, self.layers, sigma=self.sigma)
                else:
                    terms[k] = weight_max(model, self.layers)
            if not weights[k] > 0:
                terms[k] = terms[k].detach()
        total = torch.zeros((), dtype=x.dtype)
        for k in wanted:
            if weights[k] > 0:
                total = total + weights[k] * terms[k]
        return total, terms
