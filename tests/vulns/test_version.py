"""Version order for embedded forms: tables, and order properties on generated versions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.vulns.version import Version, compare, compare_to_bound

ASCENDING = [
    ("1.0.2", "1.0.2a"),
    ("1.0.2k", "1.0.2l"),
    ("1.0.2l", "1.1.0"),
    ("1.0.2zh", "1.1.0"),
    ("2.4.7", "2.4.7p1"),
    ("2.4.7p1", "2.4.7p2"),
    ("4.2.8p9", "4.2.8p15"),
    ("9.2p1", "9.3p1"),
    ("9.2", "9.2p1"),
    ("1.36.1", "1.36.1-r2"),
    ("1.36.1-r2", "1.36.1-r10"),
    ("1.36.1-r10", "1.36.2"),
    ("2022.83", "2023.01"),
    ("2020.79", "2020.80"),
    ("3.0.0-alpha1", "3.0.0-alpha2"),
    ("3.0.0-alpha2", "3.0.0-beta1"),
    ("3.0.0-beta1", "3.0.0-rc1"),
    ("3.0.0-rc1", "3.0.0"),
    ("3.6-rc1", "3.6"),
    ("2.9", "2.10"),
    ("1:0.9", "1:2.3"),
    ("2.3", "1:2.3"),
    ("1.2.13.dfsg-1", "1.2.13.dfsg-2"),
    ("3.0.11-1~deb12u1", "3.0.11-1"),
    ("3.0.11-1~deb12u1", "3.0.11-1~deb12u2"),
    ("5.10.99", "5.10.100"),
]
EQUAL = [
    ("1.0", "1.0.0"),
    ("2023.01", "2023.1"),
    ("1.2.13.dfsg", "1.2.13"),
    ("v5.10", "5.10"),
    ("1_36_0", "1.36.0"),
]


@pytest.mark.parametrize(("low", "high"), ASCENDING)
def test_ascending_pairs(low: str, high: str) -> None:
    assert compare(low, high) == -1
    assert compare(high, low) == 1
    assert Version.parse(low) < Version.parse(high)


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_forms(a: str, b: str) -> None:
    assert compare(a, b) == 0
    assert Version.parse(a) == Version.parse(b)


def test_parts() -> None:
    v = Version.parse("1:1.2.13.dfsg-1")
    assert (v.epoch, v.upstream, v.revision) == (1, "1.2.13.dfsg", "1")
    v = Version.parse("1.36.1-r2")
    assert (v.epoch, v.upstream, v.revision) == (0, "1.36.1", "r2")
    assert Version.parse("3.0.0-alpha1").revision is None


def test_bounds_ignore_packaging_the_feed_does_not_name() -> None:
    # opkg's -r2 or an epoch must not push a component past an upstream bound.
    assert compare_to_bound("1.36.1-r2", "1.36.1") == 0
    assert compare_to_bound("1:2.3", "2.3") == 0
    assert compare_to_bound("1.36.1-r2", "1.36.1-r3") == -1
    assert compare_to_bound("1.36.0-r9", "1.36.1") == -1


_PART = st.one_of(
    st.integers(0, 30).map(str),
    st.sampled_from(["a", "k", "p1", "rc1", "alpha", "beta2", "dfsg", "~rc1"]),
)
_VERSIONS = st.builds(
    lambda epoch, parts, seps, rev: (
        (f"{epoch}:" if epoch else "")
        + "".join(p + s for p, s in zip(parts, seps, strict=False)).strip(".-_")
        + (f"-r{rev}" if rev is not None else "")
    ),
    st.sampled_from([0, 0, 0, 1]),
    st.lists(_PART, min_size=1, max_size=5),
    st.lists(st.sampled_from([".", ".", "", "-", "_"]), min_size=5, max_size=5),
    st.one_of(st.none(), st.integers(0, 12)),
).filter(lambda s: any(c.isdigit() for c in s))


@settings(max_examples=150, deadline=None)
@given(_VERSIONS, _VERSIONS, _VERSIONS)
def test_order_is_transitive(a: str, b: str, c: str) -> None:
    if compare(a, b) <= 0 and compare(b, c) <= 0:
        assert compare(a, c) <= 0


@settings(max_examples=150, deadline=None)
@given(_VERSIONS, _VERSIONS)
def test_order_is_antisymmetric_and_consistent(a: str, b: str) -> None:
    assert compare(a, b) == -compare(b, a)
    assert compare(a, a) == 0
    assert (compare(a, b) == 0) == (Version.parse(a) == Version.parse(b))
    if compare(a, b) == 0:
        assert hash(Version.parse(a)) == hash(Version.parse(b))


@settings(max_examples=100, deadline=None)
@given(st.lists(_VERSIONS, min_size=2, max_size=8))
def test_sorting_agrees_with_pairwise_compare(versions: list[str]) -> None:
    ordered = sorted(versions, key=lambda v: Version.parse(v).key)
    for x, y in zip(ordered, ordered[1:], strict=False):
        assert compare(x, y) <= 0
