"""The tricks of one ablation page ranked against those of another (the same tricks on another dataset, say).

An ablation page whose tricks were also measured elsewhere names the other page beside its records, in
``docs/results/runs/<page>/ranking.yaml`` (plain data, read with ``yaml.safe_load``)::

    against: ablation                 # the other page; its records are docs/results/runs/ablation/
    label: toy shapes set, 40 px      # how the table names the other page's column
    this_label: Caltech-16, 96 px     # and this page's

:func:`ranking_table` gives, per trick, its difference to the base on each page (mean best top-1 over the
finished seeds, as in :func:`paddle_tricks.ablate.ablation_table`), its rank on each page (1 = largest gain), its
effect there (helps or hurts when the difference exceeds the base's seed-to-seed spread, "within spread" otherwise;
"?" without two base seeds), whether the effects agree, and, over the tricks measured on both, Spearman's rank
correlation (rho = 1 - 6 sum d^2 / (n (n^2 - 1)), ordinal ranks). ``paddle-tricks report`` puts it in the page's
generated block (:func:`paddle_tricks.report.pages.page_block`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import UserError
from .publish import check_name
from .references import read_data_file

__all__ = ["RANKING_FILE", "Ranking", "load_ranking", "variant_deltas", "ranks", "spearman", "base_spread", "effect",
           "ranking_table"]

RANKING_FILE = "ranking.yaml"
BASE = "base"


@dataclass
class Ranking:
    """The other page of a ranking (see the module docstring)."""

    against: str
    label: str
    this_label: str


def load_ranking(folder: str) -> Ranking | None:
    """The ranking of a record folder (``docs/results/runs/<page>``); None without one; a malformed one raises."""
    found = read_data_file(folder, RANKING_FILE)
    if found is None:
        return None
    path, data = found
    if not isinstance(data, dict) or not isinstance(data.get("against"), str):
        raise UserError(f"{path}: needs 'against: <page>', the page whose ablation this one is ranked against")
    try:
        against = check_name(data["against"], "page")
    except UserError as e:
        raise UserError(f"{path}: {e}") from None
    return Ranking(against=against, label=str(data.get("label", against)),
                   this_label=str(data.get("this_label", os.path.basename(os.path.normpath(folder)))))


def variant_deltas(rows, base_name: str = BASE) -> dict[str, tuple[float, int]]:
    """Each variant's mean best top-1 minus the base's (a fraction) and its number of finished seeds; rows are
    :class:`paddle_tricks.report.compare.RunSummary` labelled ``<variant>_s<seed>``. Empty without a finished base."""
    from ..ablate import variant_of
    best: dict[str, list[float]] = {}
    for r in rows:
        if r.status == "finished" and r.best_top1 is not None:
            best.setdefault(variant_of(r.label), []).append(r.best_top1)
    if base_name not in best:
        return {}
    base = sum(best[base_name]) / len(best[base_name])
    return {n: (sum(v) / len(v) - base, len(v)) for n, v in best.items() if n != base_name}


TIE = 1e-9  # differences closer than this are equal (two means of the same counts can differ in the last bit)


def ranks(deltas: dict[str, float]) -> dict[str, int]:
    """1 for the largest difference, 2 for the next, ...; equal differences share the better rank (1, 2, 2, 4)."""
    order = sorted(deltas, key=lambda n: (-deltas[n], n))
    out: dict[str, int] = {}
    for i, n in enumerate(order):
        tied = i and deltas[order[i - 1]] - deltas[n] <= TIE
        out[n] = out[order[i - 1]] if tied else i + 1
    return out


def _mean_ranks(values: dict[str, float]) -> dict[str, float]:
    """Ranks as in :func:`ranks`, but tied names get the mean of the ranks they span (1, 2.5, 2.5, 4)."""
    r = ranks(values)
    return {n: r[n] + (sum(1 for m in r if r[m] == r[n]) - 1) / 2 for n in r}


def spearman(a: dict[str, float], b: dict[str, float]) -> float | None:
    """Spearman's rank correlation of the differences of the names in both ``a`` and ``b`` (the Pearson
    correlation of their ranks, tied names at their mean rank); None below 3 names or when one side is all tied."""
    common = sorted(set(a) & set(b))
    if len(common) < 3:
        return None
    ra, rb = _mean_ranks({k: a[k] for k in common}), _mean_ranks({k: b[k] for k in common})
    ma, mb = sum(ra.values()) / len(common), sum(rb.values()) / len(common)
    cov = sum((ra[k] - ma) * (rb[k] - mb) for k in common)
    va, vb = sum((ra[k] - ma) ** 2 for k in common), sum((rb[k] - mb) ** 2 for k in common)
    return cov / (va * vb) ** 0.5 if va and vb else None


def base_spread(rows, base_name: str = BASE) -> float | None:
    """Max minus min best top-1 of the base's finished seeds (a fraction); None below two seeds."""
    from ..ablate import variant_of
    base = [r.best_top1 for r in rows if r.status == "finished" and r.best_top1 is not None
            and variant_of(r.label) == base_name]
    return max(base) - min(base) if len(base) > 1 else None


def effect(delta: float, spread: float | None) -> str:
    """``helps`` / ``hurts`` when ``delta`` exceeds the base's seed spread, ``within spread`` otherwise; ``?``
    without a spread (one base seed)."""
    if spread is None:
        return "?"
    return "within spread" if abs(delta) <= spread else "helps" if delta > 0 else "hurts"


def ranking_table(here, there, label_here: str, label_there: str) -> str:
    """This page's tricks (rows ``here``) against the other page's (rows ``there``): per page the difference to
    the base in pp, its rank, seeds and effect (against the base's seed spread); whether the effects agree; then
    how many tricks were measured on both, how many agree, and Spearman's rho of the two rankings."""
    dh, dt = variant_deltas(here), variant_deltas(there)
    vh, vt = {n: d for n, (d, _) in dh.items()}, {n: d for n, (d, _) in dt.items()}
    rh, rt = ranks(vh), ranks(vt)
    sh, st = base_spread(here), base_spread(there)
    names = sorted(vh, key=lambda n: rh[n]) + sorted(set(vt) - set(vh), key=lambda n: rt[n])
    head = ["Trick", f"Δ {label_here} (pp)", "rank", "seeds", "effect", f"Δ {label_there} (pp)", "rank", "seeds",
            "effect", "agree"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "--:|--:|--:|---|" * 2 + ":-:|"]
    agree = judged = 0
    for n in names:
        cells = [n]
        for d, r, spread in ((dh, rh, sh), (dt, rt, st)):
            cells += ([f"{100 * d[n][0]:+.2f}", str(r[n]), str(d[n][1]), effect(d[n][0], spread)] if n in d
                      else ["-"] * 4)
        effects = (effect(vh[n], sh), effect(vt[n], st)) if n in vh and n in vt else None
        if effects is None:
            cells.append("-")
        elif "?" in effects:
            cells.append("?")
        else:
            judged += 1
            agree += effects[0] == effects[1]
            cells.append("yes" if effects[0] == effects[1] else "**no**")
        lines.append("| " + " | ".join(cells) + " |")
    common = set(vh) & set(vt)
    rho = spearman(vh, vt)
    spreads = "; ".join(f"{label}: {'-' if s is None else f'{100 * s:.2f} pp'}"
                        for label, s in ((label_here, sh), (label_there, st)))
    return ("\n".join(lines) + "\n\n"
            f"Effect: the difference against the base's seed-to-seed spread of best top-1 ({spreads}). "
            f"Tricks measured on both: {len(common)}; the same effect on both: {agree} of {judged}"
            + (f"; Spearman's rank correlation of the differences: {rho:+.2f}" if rho is not None else "") + ".\n")
