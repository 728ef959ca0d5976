"""Reader plumbing: citation markers parsed back from what a model wrote, over a table of cases."""

import logging

import pytest

from rag.readers.base import parse_markers


@pytest.mark.parametrize(
    "text, count, expected_text, expected_indices",
    [
        ("more than 200 miles [1]", 3, "more than 200 miles", [0]),
        ("450 km [2][3]", 3, "450 km", [1, 2]),
        ("450 km [2, 3].", 3, "450 km.", [1, 2]),
        ("Jangyon [ 1 ]", 1, "Jangyon", [0]),
        ("a grave provocation [1] [1]", 2, "a grave provocation", [0]),
        ("an invented [7] citation", 3, "an invented citation", []),
        ("[0] nothing", 3, "nothing", []),
        ("no markers at all", 3, "no markers at all", []),
        ("", 3, "", []),
    ],
)
def test_parse_markers(text, count, expected_text, expected_indices):
    assert parse_markers(text, count) == (expected_text, expected_indices)


def test_out_of_range_markers_are_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        parse_markers("answer [9]", 2)
    assert "only 2 passages" in caplog.text
