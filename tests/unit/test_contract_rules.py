"""The rules behind the API document's patterns and bounds."""

from __future__ import annotations

import re
import sys

from myclothes.domain.records import RECORD_ID_MAX, could_exist
from myclothes.domain.text import NOT_SPACE, SPACE


def test_spelled_out_whitespace_is_what_strip_removes() -> None:
    every = (chr(code) for code in range(sys.maxunicode + 1))
    removed = {char for char in every if char.isspace()}
    assert {char for char in removed if re.fullmatch(SPACE, char)} == removed
    assert not any(re.fullmatch(NOT_SPACE, char) for char in removed | {"\x00"})
    assert all(re.fullmatch(NOT_SPACE, char) for char in "a\u200b\ufeff0")


def test_only_ids_an_integer_column_holds_could_exist() -> None:
    assert could_exist(1) and could_exist(RECORD_ID_MAX)
    assert not could_exist(0) and not could_exist(-1) and not could_exist(RECORD_ID_MAX + 1)
