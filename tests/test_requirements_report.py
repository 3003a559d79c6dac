"""The requirements report: a whole needs a passing whole claim; slices stay slices."""

from __future__ import annotations

import pytest

from tests.requirements import Outcome, Results, claims, classify

PASS = Outcome(outcome="passed", partial=False)
PASS_PART = Outcome(outcome="passed", partial=True)
FAIL_PART = Outcome(outcome="failed", partial=True)


class TestClassify:
    def test_each_requirement_lands_in_exactly_one_list(self) -> None:
        ids = ["ACC-06", "ACC-07", "ACC-13", "MAP-01", "VID-14", "ALM-09"]
        results: Results = {
            "ACC-06": {"a::whole": PASS, "b::slice": PASS_PART},
            "ACC-07": {"a::whole": PASS},
            "ACC-13": {"c::export": PASS_PART, "d::query": PASS_PART},
            "MAP-01": {"e::patch": PASS_PART, "f::whole": PASS, "g::slice": FAIL_PART},
            "VID-14": {"h::skipped": Outcome(outcome="skipped", partial=False)},
            "XYZ-99": {"i::typo": PASS},
        }

        c = classify(ids, results)

        assert c.whole == ["ACC-06", "ACC-07"]
        assert c.partial == ["ACC-13"]
        assert c.failing == ["MAP-01", "VID-14"]
        assert c.unproven == ["ALM-09"]
        assert c.unknown == ["XYZ-99"]

    def test_slices_alone_never_make_a_whole(self) -> None:
        results: Results = {"ACC-13": {f"t{i}": PASS_PART for i in range(20)}}

        c = classify(["ACC-13"], results)

        assert (c.whole, c.partial) == ([], ["ACC-13"])


class TestClaims:
    def test_the_nearest_mark_decides_whole_or_part(self) -> None:
        function = [pytest.mark.req("ACC-13").mark, pytest.mark.req("ACC-06", partial=True).mark]
        cls = [pytest.mark.req("ACC-13", "ACC-10", partial=True).mark]
        module = [pytest.mark.req("ACC-06", "ACC-07").mark]

        found = claims(function + cls + module)

        assert found == {"ACC-13": False, "ACC-06": True, "ACC-10": True, "ACC-07": False}
