from hypothesis import given
from hypothesis import strategies as st

from runnable import names

segment = st.text(min_size=1, max_size=20)


@given(st.lists(segment, min_size=1, max_size=6))
def test_split_undoes_join(segments):
    assert names.split(names.join(*segments)) == segments


@given(st.lists(segment, min_size=2, max_size=6))
def test_parent_is_one_level_up(segments):
    assert names.parent(names.join(*segments)) == names.join(*segments[:-1])


def test_dots_in_step_names_are_not_levels():
    assert names.join("fan", "0", "a.b") == "fan.0.a\\.b"
    assert names.split("fan.0.a\\.b") == ["fan", "0", "a.b"]


@given(segment, segment)
def test_log_names_are_distinct_and_safe(a, b):
    la, lb = names.log_name(a, 20), names.log_name(b, 20)
    assert (la == lb) == (a == b)
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in la)
