"""The pages' one validation layer: each validator finding as a sentence naming the field."""
from __future__ import annotations

import pytest

from sel_time.core.errors import FieldError
from sel_time.web.forms import in_words, sentence

BLANK = (("blank", "yes"),)


@pytest.mark.parametrize(("error", "words"), [
    (FieldError("profession", "Input should be 'consultant'…", kind="enum", context=BLANK),
     "Choose a profession"),
    (FieldError("profession", "Input should be 'consultant'…", kind="enum"),
     "Choose a profession from the list"),
    (FieldError("start", "Input should be a valid date", kind="date_from_datetime_parsing",
                context=BLANK), "Enter a first day, for example 18 1 2027"),
    (FieldError("start_date", "Field required", kind="missing"),
     "Enter a start date, for example 18 1 2027"),
    (FieldError("weeks", "between 1 and 52"), "Enter a number of weeks from 1 to 52"),
    (FieldError("weeks", "Input should be ≤ 52", kind="less_than_equal", context=(("le", "52"),)),
     "Number of weeks must be 52 or less"),
    (FieldError("fte", "Input should be > 0", kind="greater_than", context=(("gt", "0"),)),
     "Whole-time equivalent must be more than 0"),
    (FieldError("name", "String should have at most 200 characters", kind="string_too_long",
                context=(("max_length", "200"),)), "Name must be 200 characters or fewer"),
    (FieldError("name", "String should have at least 1 character", kind="string_too_short",
                context=(("min_length", "1"),)), "Enter a name"),
    (FieldError("organisation_id", "Field required", kind="missing"), "Choose an organisation"),
    (FieldError("email", "The email address or password is not right"),
     "The email address or password is not right"),
    (FieldError("end_date", "ends before it starts"), "End date: ends before it starts"),
    (FieldError("weeks", "got a number with a fractional part", kind="int_from_float"),
     "Number of weeks must be a whole number"),
])
def test_each_finding_reads_as_a_sentence(error: FieldError, words: str) -> None:
    assert sentence(error) == words


def test_in_words_keeps_field_and_row_for_the_links() -> None:
    [out] = in_words([FieldError("clinical_sessions", "the cell holds 9 characters", 2)])
    assert (out.field, out.row) == ("clinical_sessions", 2)
    assert out.message == "Clinical sessions: the cell holds 9 characters"
    assert in_words(None) == []
