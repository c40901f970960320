"""Which customers are one organisation (issue #18): directory links, or a shared name
stem, country and mail domain together; never a webmail domain or one sign alone."""

from __future__ import annotations

from vigile.detect.organisations import DirectoryCustomer as C
from vigile.detect.organisations import organisation_keys


def test_a_parent_chain_is_one_organisation_and_a_cycle_ends() -> None:
    keys = organisation_keys([
        C(id="c-1"), C(id="c-2", parent="c-1"), C(id="c-3", parent="c-2"),
        C(id="c-4", parent="c-5"), C(id="c-5", parent="c-4"), C(id="c-6", parent="gone"),
    ])  # fmt: skip
    assert keys["c-1"] == keys["c-2"] == keys["c-3"]
    assert keys["c-4"] == keys["c-5"] != keys["c-1"]
    assert keys["c-6"] == "c-6"  # a parent the directory does not hold links nothing


def test_stem_country_and_domain_together_group_and_each_alone_does_not() -> None:
    keys = organisation_keys([
        C(id="c-1", name="Kalomer Ltd", country="US", emails=("a@kalomer.example",)),
        C(id="c-2", name="Kalomer Ltd West", country="us", emails=("b@Kalomer.example",)),
        C(id="c-3", name="Kalomer GmbH", country="DE", emails=("c@kalomer.example",)),
        C(id="c-4", name="Kalomer Retail", country="US", emails=("d@kalomer-retail.example",)),
        C(id="c-5", name="Tormo Inc", country="US", emails=("e@kalomer.example",)),
        C(id="c-6", name="Kalomer", country="US", emails=("k@gmail.com",)),
        C(id="c-7", name="Kalomer", country="US", emails=("m@gmail.com",)),
        C(id="c-8", name="Kalomer", country="US"),
    ])  # fmt: skip
    assert keys["c-1"] == keys["c-2"]
    others = [keys[f"c-{i}"] for i in range(3, 9)]
    assert keys["c-1"] not in others
    assert len(set(others)) == len(others)


def test_a_linked_root_and_its_look_alike_are_one_organisation() -> None:
    keys = organisation_keys([
        C(id="c-1", name="Kalomer Ltd", country="US", emails=("a@kalomer.example",)),
        C(id="c-2", parent="c-1"),
        C(id="c-3", name="Kalomer East", country="US", emails=("b@kalomer.example",)),
    ])  # fmt: skip
    assert keys["c-1"] == keys["c-2"] == keys["c-3"]
