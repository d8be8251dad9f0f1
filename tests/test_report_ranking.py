"""The ranking of one ablation page's tricks against another's (paddle_tricks/report/ranking.py)."""
import pytest

from paddle_tricks.errors import UserError
from paddle_tricks.report.compare import RunSummary
from paddle_tricks.report.ranking import (base_spread, effect, load_ranking, ranking_table, ranks, spearman,
                                          variant_deltas)


def rows(**best):
    """RunSummary rows from ``name_sK=best_top1``; a value of None is an unfinished run."""
    return [RunSummary(label=k, path="x", status="finished" if v is not None else "running", best_top1=v)
            for k, v in best.items()]


def test_deltas_are_mean_best_minus_mean_base_over_finished_seeds():
    d = variant_deltas(rows(base_s0=0.80, base_s1=0.76, se_s0=0.81, se_s1=0.79, se_s2=None, sp_s0=0.70))
    assert d["se"][0] == pytest.approx(0.80 - 0.78) and d["se"][1] == 2    # the unfinished seed is left out
    assert d["sp"][0] == pytest.approx(0.70 - 0.78) and d["sp"][1] == 1
    assert "base" not in d
    assert variant_deltas(rows(se_s0=0.8, base_s0=None)) == {}             # no finished base, no difference


def test_ranks_and_spearman():
    assert ranks({"a": 0.1, "b": -0.2, "c": 0.3}) == {"c": 1, "a": 2, "b": 3}
    a = {"x": 0.3, "y": 0.1, "z": -0.1, "w": -0.3}
    assert spearman(a, a) == pytest.approx(1.0)
    assert spearman(a, {k: -v for k, v in a.items()}) == pytest.approx(-1.0)
    # one swap of neighbours among 4: d^2 sum 2 -> 1 - 12/60
    assert spearman(a, {"x": 0.3, "y": -0.1, "z": 0.1, "w": -0.3}) == pytest.approx(0.8)
    assert spearman(a, {"x": 1.0, "y": 0.0, "q": 2.0}) is None                  # two names in common


def test_ties_share_a_rank_and_count_at_their_mean_rank():
    tied = {"a": 0.3, "b": 0.1, "c": 0.1 + 1e-12, "d": -0.2}                   # b and c: the same mean, last bit apart
    assert ranks(tied) == {"a": 1, "b": 2, "c": 2, "d": 4}
    # ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): Pearson of the ranks, sqrt(4.5 / 5)
    assert spearman(tied, {"a": 0.4, "b": 0.2, "c": 0.0, "d": -0.1}) == pytest.approx(0.9 ** 0.5)
    assert spearman({"a": 0.0, "b": 0.0, "c": 0.0}, tied) is None               # one side all tied: no rank order


def test_effect_needs_the_difference_beyond_the_base_spread():
    assert base_spread(rows(base_s0=0.80, base_s1=0.77)) == pytest.approx(0.03)
    assert base_spread(rows(base_s0=0.80)) is None
    assert effect(0.031, 0.03) == "helps" and effect(-0.031, 0.03) == "hurts"
    assert effect(0.029, 0.03) == "within spread" and effect(-0.03, 0.03) == "within spread"
    assert effect(0.2, None) == "?"


def test_table_orders_by_this_page_and_marks_disagreement():
    here = rows(base_s0=0.80, base_s1=0.78, db_s0=0.84, db_s1=0.83, se_s0=0.79, se_s1=0.80)
    there = rows(base_s0=0.80, base_s1=0.79, db_s0=0.85, se_s0=0.70, bp_s0=0.90)
    text = ranking_table(here, there, "real", "toy")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| Trick | Δ real (pp) | rank | seeds | effect | Δ toy (pp) |")
    assert [line.split(" | ")[0] for line in table[1:]] == ["| db", "| se", "| bp"]  # here's order, then the rest
    assert table[1] == "| db | +4.50 | 1 | 2 | helps | +5.50 | 2 | 1 | helps | yes |"
    assert table[2] == "| se | +0.50 | 2 | 2 | within spread | -9.50 | 3 | 1 | hurts | **no** |"
    assert table[3] == "| bp | - | - | - | - | +10.50 | 1 | 1 | helps | - |"
    assert "real: 2.00 pp; toy: 1.00 pp" in text and "the same effect on both: 1 of 2" in text
    assert "Spearman" not in text                                            # two tricks in common


def test_ranking_file_is_plain_data_naming_a_page(tmp_path):
    assert load_ranking(str(tmp_path)) is None
    f = tmp_path / "ranking.yaml"
    f.write_text("against: toy\nlabel: the toy set\n")
    r = load_ranking(str(tmp_path))
    assert (r.against, r.label, r.this_label) == ("toy", "the toy set", tmp_path.name)
    for bad in ("label: x\n", "against: ../elsewhere\n", "against: [1, 2\n", "against: !!python/name:os.system\n"):
        f.write_text(bad)
        with pytest.raises(UserError, match="ranking.yaml"):
            load_ranking(str(tmp_path))
