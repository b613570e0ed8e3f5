"""Answer parsing: letters, option texts, answer lines, the article "a", refusals, ambiguity."""

from __future__ import annotations

import pytest

from cardiolens.scorers.parsing import (
    LETTERS,
    ParsedChoice,
    format_letters,
    is_refusal,
    parse_choice,
)

SIZE = ["Normal", "Dilated", "Small"]
WALLS = ["Anterior", "Septal", "Inferior", "Lateral"]
EF = ["Normal (EF >= 50%)", "Mildly reduced (40-49%)", "Moderately reduced (30-39%)",
      "Severely reduced (< 30%)"]
FUNCTION = ["Normal", "Dilated", "Reduced function", "Dilated with reduced function"]
ETIOLOGY = ["Normal", "Ischemic cardiomyopathy", "Non-ischemic cardiomyopathy"]
PATTERN = ["Ischemic (follows a coronary territory)", "Non-ischemic"]
NINE = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.mark.parametrize("reply, expected", [
    # bare letters and their wrappings
    ("B", (1,)), ("(B)", (1,)), ("B.", (1,)), ("B)", (1,)), ("**B**", (1,)),
    ("  C  \n", (2,)), ("[C]", (2,)), ("`A`", (0,)), ("\\boxed{C}", (2,)),
    # a whole reply that is just a lower-case letter
    ("b", (1,)), ("(c)", (2,)), ("a", (0,)), ("A.", (0,)), ("option b", (1,)),
    # answer lines and answer phrases
    ("Answer: B", (1,)), ("answer: b", (1,)), ("ANSWER: c", (2,)), ("**Answer:** B", (1,)),
    ("Final answer: A", (0,)), ("Answer:B", (1,)), ("Answer:\n\nC", (2,)),
    ("The answer is C.", (2,)), ("I think the answer is b", (1,)),
    ("The correct option is A.", (0,)),
    # letter followed by its text, and option texts alone
    ("B) Dilated", (1,)), ("B. Dilated", (1,)), ("C) small LV", (2,)), ("Dilated", (1,)),
    ("dilated", (1,)), ("SMALL", (2,)), ("The left ventricle looks dilated.", (1,)),
    # "A" as an option letter when a word after it cannot be a noun it qualifies
    ("A is correct", (0,)), ("A Dilated", (0,)),
    # reasoning before the answer
    ("A dilated ventricle with thin walls.\nAnswer: B", (1,)),
    ("Looking at slice 4, the cavity is large. Normal walls.\nAnswer: B", (1,)),
    ("Answer: A\nOn reflection the cavity is larger.\nAnswer: C", (2,)),
    ("Options A and C are unlikely.\nAnswer: B", (1,)),
    ("The cavity is large on every slice.\nB", (1,)),
    ("The cavity is large on every slice.\nThe ventricle is dilated.", (1,)),
    ("A random guess.\nAnswer: C", (2,)),
    ("Answer: B\nThis answer is based on the cine images.", (1,)),
    ("This answer is based on the cine images.\nC", (2,)),
    # the article "a" is not option A
    ("Answer: a dilated LV", (1,)), ("There is a small ventricle.", (2,)),
    ("A small ventricle.", (2,)), ("a dilated ventricle", (1,)),
    ("I think it is dilated", (1,)),
    # negated option texts and letters are not chosen
    ("The LV is not dilated; it is small.", (2,)), ("The answer is not A.\nB", (1,)),
    # a refusal clause followed by an answer
    ("I cannot be certain, but B", (1,)),
    ("I can't see any wall thinning, so the answer is B", (1,)),
])
def test_single_choice_forms(reply: str, expected: tuple[int, ...]) -> None:
    parsed = parse_choice(reply, SIZE, multi=False)
    assert parsed == ParsedChoice(expected, True, False)


@pytest.mark.parametrize("reply, expected", [
    ("Final answer: B, C and D", (1, 2, 3)), ("B, C and D", (1, 2, 3)), ("B, D", (1, 3)),
    ("B and D", (1, 3)), ("A/C", (0, 2)), ("a/c", (0, 2)), ("answer: a, c", (0, 2)),
    ("Final answer: A and C", (0, 2)), ("D, B, B", (1, 3)), ("(A) (D)", (0, 3)),
    ("A) Anterior, C) Inferior", (0, 2)), ("Anterior and inferior walls", (0, 2)),
    ("Septal", (1,)), ("B", (1,)),
    ("Reasoning: the septum is thin.\nAnswer: B, D", (1, 3)),
    ("Answers: A, B", (0, 1)),
    ("The inferior and lateral walls, not the septal wall.", (2, 3)),
    ("Answer: A, F, G", (0,)),                                # F, G are past the options
])
def test_multi_label_forms(reply: str, expected: tuple[int, ...]) -> None:
    parsed = parse_choice(reply, WALLS, multi=True)
    assert parsed.parsed and parsed.indices == expected and not parsed.refused


@pytest.mark.parametrize("reply", [
    "", "   \n ", "zzz qqq", "1, 2, 3", "((((", "Answer:", "ÄÖÜ ß",
    "E", "Answer: F", "Z",                                  # letters past the options
    "B or C", "Answer: A, B", "A, C",                       # two options for single choice
    "Normal or dilated", "a thin-walled heart", "The LV is not dilated.",
    "i think it's b",                                       # lower case outside answer lines
    "The answer: unclear from these images",                # the Answer: line decides alone
])
def test_unparsed_replies(reply: str) -> None:
    parsed = parse_choice(reply, SIZE, multi=False)
    assert parsed == ParsedChoice((), False, False)


@pytest.mark.parametrize("reply", [
    "I cannot provide a medical diagnosis.",
    "I'm unable to interpret medical images.",
    "I’m unable to help with that.",
    "The findings cannot be determined from these images.",
    "I cannot determine whether the ventricle is dilated.",
    "As an AI, I am not able to provide a diagnosis.",
    "Answer: I cannot determine this from the images.",
    "I'm sorry, but I cannot choose between A and B.",
])
def test_refusals(reply: str) -> None:
    parsed = parse_choice(reply, SIZE, multi=False)
    assert parsed == ParsedChoice((), False, True)
    assert is_refusal(reply)


def test_refusal_is_not_flagged_when_an_answer_is_read() -> None:
    parsed = parse_choice("I cannot be fully certain.\nAnswer: B", SIZE, multi=False)
    assert parsed == ParsedChoice((1,), True, False)
    assert not is_refusal("LGE cannot be excluded in the septum.")


@pytest.mark.parametrize("reply, options, expected", [
    ("Normal (EF >= 50%)", EF, (0,)), ("mildly reduced (40-49%)", EF, (1,)),
    ("Severely reduced (< 30%)", EF, (3,)), ("normal", [*EF, "Normal"], (4,)),
    ("Normal", EF, (0,)),                                    # the part before " (" matches
    ("Dilated with reduced function", FUNCTION, (3,)), ("Reduced function", FUNCTION, (2,)),
    ("dilated", FUNCTION, (1,)),
    ("Non-ischemic cardiomyopathy", ETIOLOGY, (2,)), ("Ischemic cardiomyopathy", ETIOLOGY, (1,)),
    ("non-ischemic", PATTERN, (1,)), ("Ischemic", PATTERN, (0,)),
    ("Mid-wall", ["Subendocardial", "Mid-wall", "Mid"], (1,)),
])
def test_longest_option_text_wins(reply: str, options: list[str],
                                  expected: tuple[int, ...]) -> None:
    assert parse_choice(reply, options, multi=False).indices == expected


def test_multi_label_with_substring_options() -> None:
    parsed = parse_choice("Dilated with reduced function, and normal", FUNCTION, multi=True)
    assert parsed.indices == (0, 3)


def test_lower_case_letters_need_an_answer_line_or_a_bare_reply() -> None:
    options = NINE
    # e.g. / i.e. are never letters, even in an answer line
    assert parse_choice("Answer: B (i.e. two)", options, multi=True).indices == (1,)
    # "I think" is the pronoun, not option I
    assert parse_choice("I think B", options, multi=False).indices == (1,)
    assert parse_choice("I", options, multi=False).indices == (8,)
    # lower-case letters in prose are not letters: the option text is read instead
    assert parse_choice("it looks like b is two", options, multi=False).indices == (1,)


def test_no_options_is_unparsed() -> None:
    assert parse_choice("B", [], multi=False) == ParsedChoice((), False, False)


def test_garbage_never_raises() -> None:
    for reply in ["\x00\x01", "Answer: " * 50, "(" * 500, "a " * 2000, "\n" * 100]:
        result = parse_choice(reply, SIZE, multi=True)
        assert isinstance(result.parsed, bool) and isinstance(result.indices, tuple)


def test_format_letters() -> None:
    assert format_letters((3, 1)) == "B, D"
    assert format_letters([0, 0, 2]) == "A, C"
    assert format_letters(()) == ""
    assert LETTERS == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    with pytest.raises(ValueError):
        format_letters([26])


def test_round_trip_through_format_letters() -> None:
    for indices in [(0,), (1, 3), (0, 1, 2, 3)]:
        assert parse_choice(format_letters(indices), WALLS, multi=True).indices == indices
