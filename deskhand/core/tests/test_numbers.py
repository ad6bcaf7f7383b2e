"""Integers from requests: ASCII digits only, bounded to a 64-bit id."""

from __future__ import annotations

import pytest

from deskhand.core.errors import Invalid
from deskhand.core.numbers import MAX_ID, IdConverter, id_or_none, int_or_default, parse_id, parse_ids, parse_int


@pytest.mark.parametrize("value", ["1", "42", MAX_ID, str(MAX_ID), 7])
def test_ids_are_ascii_digits_within_64_bits(value: object) -> None:
    assert parse_id(value, field="organization") == int(str(value))


@pytest.mark.parametrize("value", [str(2**64), str(MAX_ID + 1), MAX_ID + 1, "99999999999999999999999", "²", "١٢",
                                   "-1", "0", 0, -5, "1e3", " 1", "1 ", "1\n", "", "1_0", "+1", True, None, 1.0,
                                   "9" * 400, [1]])
def test_anything_else_is_invalid_naming_the_field(value: object) -> None:
    with pytest.raises(Invalid) as error:
        parse_id(value, field="organization")
    assert error.value.field == "organization"
    assert id_or_none(value) is None


def test_bounded_numbers_and_defaults() -> None:
    assert parse_int("-3", field="position", minimum=-10, maximum=10) == -3
    with pytest.raises(Invalid):
        parse_int("11", field="position", maximum=10)
    assert int_or_default("²", 1) == 1 and int_or_default("0", 0, minimum=0) == 0
    assert int_or_default(str(2**64), 5) == 5 and int_or_default("12", 5) == 12


def test_comma_separated_ids() -> None:
    assert parse_ids("3, 4", field="project") == [3, 4]
    for text in ["", ",", "3,²", f"3,{2**64}"]:
        with pytest.raises(Invalid):
            parse_ids(text, field="project")


def test_the_path_converter_refuses_numbers_past_the_range() -> None:
    converter = IdConverter()
    assert converter.to_python("12") == 12 and converter.to_url(12) == "12"
    for text in ["0", str(MAX_ID + 1), "9" * 19]:
        with pytest.raises(ValueError):
            converter.to_python(text)
