r"""The JSON shape of the results of ``sample``, ``certify``, ``report``, ``check``, ``exact``, ``taylor``,
``accuracy``, ``sweep`` and ``train``, in the convention of :mod:`symft.cli.convention`.

The library's ``as_dict`` / ``to_dict`` methods keep their own form (certificates are
read back from it); these functions turn them into the command line's form:
exact texts become exact numbers (a float plus ``<key>_exact``), ``[lo, hi]``
pairs become ``<key>_lo`` / ``<key>_hi``, positional rows become objects, and
the few keys that named one idea twice get one name (``ci_low`` → ``mean_lo``).

Examples
--------
>>> sample_json({"mean": [0.5], "ci_low": [0.25], "ci_high": [0.75]}, None)
{'mean': [0.5], 'mean_lo': [0.25], 'mean_hi': [0.75]}
"""

from __future__ import annotations

from .convention import exact_number, exact_values, renamed, rows, site_rows, split_intervals

__all__ = ["model_rows", "sample_json", "hybrid_json", "certify_json", "dataset_certify_json", "report_json", "check_json",
           "exact_json", "enclose_json", "taylor_json", "accuracy_json", "train_json"]

#: The warning of a hybrid batch, which also writes its rows under the old key ``inputs`` for one release.
OLD_HYBRID_KEY = "inputs is the old name of per_input: it is written in this release only"


def model_rows(model) -> list:
    """The failure model as rows: ``{"kind", "semantics", "sites": [{"site", "p"}]}`` per model.

    Examples
    --------
    >>> from symft.faults import NeuronCrash
    >>> model_rows(NeuronCrash({1: 0.1}))
    [{'kind': 'neuron', 'semantics': 'output_zero', 'sites': [{'site': '1', 'p': 0.1}]}]
    """
    from ..faults import NeuronCrash

    out = []
    for m in (model if isinstance(model, tuple) else (model,)):
        row = {"kind": "neuron" if isinstance(m, NeuronCrash) else "synapse"}
        if isinstance(m, NeuronCrash):
            row["semantics"] = m.semantics
        row["sites"] = site_rows([(s, exact_number(q)) for s, q in m.p], "p")
        out.append(row)
    return out


def sample_json(d: dict, model) -> dict:
    """``sample``: ``ci_low``/``ci_high`` → ``mean_lo``/``mean_hi``, ``change_low``/``change_high`` →
    ``change_lo``/``change_hi``, tail intervals and strata ``failures`` split, the model as rows.

    With several inputs the strata are one list of rows with an ``input`` field, and the warnings
    one list of lines, each naming its input.

    Examples
    --------
    >>> sample_json({"change_low": 0.1, "strata": [{"failures": [1, 2]}]}, None)
    {'change_lo': 0.1, 'strata': [{'failures_lo': 1, 'failures_hi': 2}]}
    """
    d = renamed(d, ci_low="mean_lo", ci_high="mean_hi", change_low="change_lo", change_high="change_hi",
                tail_upper_ci="tail_upper", tail_abs_ci="tail_abs")
    d = split_intervals(d, "tail_upper", "tail_abs")
    if d.get("strata") and isinstance(d["strata"][0], list):         # several inputs: one row per stratum
        d["strata"] = [{"input": b, **s} for b, rows_ in enumerate(d["strata"]) for s in rows_]
    if "strata" in d:
        d["strata"] = [split_intervals(s, "failures") for s in d["strata"]]
    if d.get("warnings") and all(isinstance(w, list) for w in d["warnings"]):
        d["warnings"] = [f"input {b}: {w}" for b, ws in enumerate(d["warnings"]) for w in ws]
    if model is not None:
        d["model"] = model_rows(model)
    return exact_values(d, "probability")


def hybrid_json(d: dict, model) -> dict:
    """``sample --method hybrid``: every ``low``/``high`` (and ``ci_low``/``ci_high``) → ``mean_lo``/``mean_hi``,
    strata ``failures`` split, the model as rows; a batch has one row per input under ``per_input``, as every
    batch command (``{"input": b, …}``), and for one release also the old key ``inputs`` with a warning.

    Examples
    --------
    >>> hybrid_json({"ci_low": [0.1], "ci_high": [0.2], "proved": {"low": [0.0], "high": [0.1], "order": 1},
    ...              "statistical": {"low": [0.1], "high": [0.2], "strata": [{"failures": [2, 3]}]}}, None)
    {'mean_lo': [0.1], 'mean_hi': [0.2], 'proved': {'mean_lo': [0.0], 'mean_hi': [0.1], 'order': 1}, 'statistical': {'mean_lo': [0.1], 'mean_hi': [0.2], 'strata': [{'failures_lo': 2, 'failures_hi': 3}]}, 'standard_error': None, 'crashed_samples': None}
    >>> b = hybrid_json({"per_input": [{"input": 0, "ci_low": [0.1]}, {"input": 1, "ci_low": [0.3]}]}, None)
    >>> [r["input"] for r in b["per_input"]], b["mean_lo"], b["warnings"]
    ([0, 1], [[0.1], [0.3]], ['inputs is the old name of per_input: it is written in this release only'])
    """
    if "per_input" in d:                # a batch: the sampler's fields per input, as the other samplers give them
        rows = [hybrid_json(x, None) for x in d["per_input"]]
        d = {**d, "per_input": rows, **{k: [x.get(k) for x in rows] for k in ("mean", "mean_lo", "mean_hi",
                                                                              "standard_error")},
             "crashed_samples": sum(x.get("crashed_samples") or 0 for x in rows),
             # the old key, for one release: the same rows without their index
             "inputs": [{k: v for k, v in x.items() if k != "input"} for x in rows],
             "warnings": list(d.get("warnings", [])) + [OLD_HYBRID_KEY]}
    else:
        d = renamed(d, ci_low="mean_lo", ci_high="mean_hi")
        for part in ("proved", "statistical", "enclosure"):
            if isinstance(d.get(part), dict):
                q = renamed(d[part], low="mean_lo", high="mean_hi")
                if "strata" in q:
                    q["strata"] = [split_intervals(st, "failures") for st in q["strata"]]
                d[part] = q
        st = d.get("statistical")
        if isinstance(st, dict):        # the combined interval's spread is the sampled part's; every draw crashes
            d.setdefault("standard_error", st.get("standard_error"))
            d.setdefault("crashed_samples", st.get("draws"))
    if model is not None:
        d["model"] = model_rows(model)
    return d


def certify_json(d: dict) -> dict:
    """``certify`` on one input: ε and δ exact, ``p``/``versions``/``per_output`` as rows.

    A statistical certificate (Monte Carlo of the event) bounds the probability of the event only:
    its ``per_output`` rows have ``delta_bound`` and no moments.

    Examples
    --------
    >>> certify_json({"eps": "1/2", "p": [[1, "0.1"]], "per_output": [[0, -0.1, -0.1, 0.01, 0.05]]})["per_output"]
    [{'output': 0, 'mean_lo': -0.1, 'mean_hi': -0.1, 'var_hi': 0.01, 'delta_bound': 0.05}]
    >>> certify_json({"source": "monte-carlo", "per_output": [[0, float("nan"), float("nan"), float("nan"), 0.01]]})
    {'source': 'monte-carlo', 'per_output': [{'output': 0, 'delta_bound': 0.01}]}
    """
    d = exact_values(d, "eps", "delta")
    if "p" in d:
        d["p"] = site_rows([(s, exact_number(q)) for s, q in d["p"]], "p")
    if "versions" in d:
        d["versions"] = rows(d["versions"], "package", "version")
    if "per_output" in d:
        d["per_output"] = rows(d["per_output"], "output", "mean_lo", "mean_hi", "var_hi", "delta_bound")
        if d.get("source") == "monte-carlo":    # bounds the event's probability; estimates no moments
            d["per_output"] = [{"output": r["output"], "delta_bound": r["delta_bound"]} for r in d["per_output"]]
    return d


def dataset_certify_json(d: dict) -> dict:
    """``certify --data`` / ``--loss``: ε and δ exact, the per-input bounds ``each`` as ``each_lo``/``each_hi``.

    The exact probability (when the method is exact) is ``bound`` (nearest float) with its text under
    ``bound_exact``; ``bound_lo``/``bound_hi`` stay rounded outward, so they always enclose it.

    Examples
    --------
    >>> dataset_certify_json({"eps": "1", "each": [[0.0, 0.5]]})
    {'eps': Fraction(1, 1), 'each_lo': [0.0], 'each_hi': [0.5]}
    """
    d = renamed(exact_values(d, "eps", "delta", "bound_exact"), bound_exact="bound")
    return split_intervals(d, "each")


def report_json(d: dict) -> dict:
    """``report``: the Monte Carlo interval as ``mean_lo``/``mean_hi``; a bound's exact value as ``exact_value``
    (``exact`` is a yes/no flag everywhere else).

    Examples
    --------
    >>> report_json({"monte_carlo": {"mean": [0.0], "ci_low": [-0.1], "ci_high": [0.1]}, "bounds": []})
    {'monte_carlo': {'mean': [0.0], 'mean_lo': [-0.1], 'mean_hi': [0.1]}, 'bounds': []}
    """
    d = dict(d)
    if isinstance(d.get("monte_carlo"), dict):
        d["monte_carlo"] = renamed(d["monte_carlo"], ci_low="mean_lo", ci_high="mean_hi")
    d["bounds"] = [renamed(b, exact="exact_value") for b in d.get("bounds", [])]
    return d


def check_json(d: dict) -> dict:
    """``check``: each comparison's values as intervals ``value_a_lo``/``value_a_hi`` (a point: lo = hi).

    Examples
    --------
    >>> check_json({"comparisons": [{"value_a": [1.0, 2.0], "value_b": 1.5}]})
    {'comparisons': [{'value_a_lo': 1.0, 'value_a_hi': 2.0, 'value_b_lo': 1.5, 'value_b_hi': 1.5}]}
    """
    d = dict(d)
    d["comparisons"] = [split_intervals(c, "value_a", "value_b") for c in d.get("comparisons", [])]
    return d


def exact_json(d: dict) -> dict:
    """``exact``: the moments, atoms, probabilities and coefficients as exact numbers; atoms as rows.

    Examples
    --------
    >>> exact_json({"mean": ["-1/8"], "distribution": {"atoms": [["1/2"]], "probabilities": ["1"]}})
    {'mean': [Fraction(-1, 8)], 'distribution': {'atoms': [{'delta': [Fraction(1, 2)], 'probability': Fraction(1, 1)}]}}
    """
    d = _sites(d)
    moments = [k for k in d if k in ("mean", "var", "std", "second", "cov", "loss_mean", "loss_var", "coefficients")
               or (k.startswith("moment") and k[6:].isdigit())]
    d = exact_values(d, *moments)

    def law(e):
        e = dict(e)
        e["atoms"] = [{"delta": exact_values({"v": a}, "v")["v"], "probability": exact_number(w)}
                      for a, w in zip(e["atoms"], e.pop("probabilities"))]
        return e

    if isinstance(d.get("distribution"), dict):
        d["distribution"] = law(d["distribution"])
    elif isinstance(d.get("distribution"), list):
        d["distribution"] = [law(e) for e in d["distribution"]]
    return d


def _sites(d: dict) -> dict:
    """The crash sites an engine used: ``layers`` (numbers for chains) → ``sites`` (names, as everywhere)."""
    if "layers" in d:
        d = renamed(d, layers="sites")
        d["sites"] = [str(s) for s in d["sites"]]
    return d


def enclose_json(d: dict) -> dict:
    """``enclose``: the crash sites as ``sites`` (names).

    Examples
    --------
    >>> enclose_json({"mean_lo": [0.0], "layers": [1]})
    {'mean_lo': [0.0], 'sites': ['1']}
    """
    return _sites(d)


def taylor_json(d: dict) -> dict:
    """``taylor``: ``D1``/``D2`` → ``d1``/``d2`` (snake_case), the probabilities as site rows.

    Examples
    --------
    >>> taylor_json({"D1": [0.5], "p": {"1": 0.1}})
    {'d1': [0.5], 'p': [{'site': '1', 'p': 0.1}]}
    """
    d = renamed(d, D1="d1", D2="d2")
    if isinstance(d.get("p"), dict):
        d["p"] = site_rows({s: exact_number(q) for s, q in d["p"].items()}, "p")
    return d


def accuracy_json(d: dict) -> dict:
    """``accuracy``: the per-input intervals ``change_each`` as ``change_each_lo``/``change_each_hi``.

    Examples
    --------
    >>> accuracy_json({"change_each": [[0.0, 0.1], [0.2, 0.3]]})
    {'change_each_lo': [0.0, 0.2], 'change_each_hi': [0.1, 0.3]}
    """
    return split_intervals(d, "change_each")


def train_json(d: dict) -> dict:
    """``train``: the crash probabilities as site rows; Algorithm 1's certificate as ``certify`` writes it.

    Examples
    --------
    >>> train_json({"p": {"1": 0.001}, "certificate": None})
    {'p': [{'site': '1', 'p': 0.001}], 'certificate': None}
    """
    d = dict(d)
    if isinstance(d.get("p"), dict):
        d["p"] = site_rows({s: exact_number(q) for s, q in d["p"].items()}, "p")
    if isinstance(d.get("certificate"), dict):
        d["certificate"] = certify_json(d["certificate"])
    return d
