"""RAG measures against hand-written cases."""

import pytest

from harness.rag import metrics as m


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  A   cat, an owl and THE dog. ", "cat owl and dog"),
        ("“Paris”", "paris"),
        ("", ""),
    ],
)
def test_normalize(text, expected):
    assert m.normalize(text) == expected


@pytest.mark.parametrize(
    "answer, gold, expected",
    [
        ("It was Arthur's Magazine.", ["Arthur's Magazine"], True),
        ("arthurs magazine", ["Arthur's Magazine"], True),
        ("The answer is Delhi", ["Mumbai", "Delhi"], True),
        ("New Delhi", ["Delhi"], True),
        ("Delhiite food", ["Delhi"], False),  # whole words only, not substrings of words
        ("Mumbai", ["Delhi"], False),
        ("anything", [""], False),  # an empty gold answer never matches
    ],
)
def test_is_correct(answer, gold, expected):
    assert m.is_correct(answer, gold) is expected


@pytest.mark.parametrize(
    "answer, verdict",
    [
        ("Delhi.", "correct"),
        ("I cannot answer.", "abstain"),
        ("The passages do not contain the answer.", "abstain"),
        ("I don't know", "abstain"),
        ("", "abstain"),
        ("Mumbai, the financial capital.", "hallucinated"),
        ("I cannot answer for sure, but Delhi", "correct"),  # a correct answer wins over a hedge
    ],
)
def test_judge(answer, verdict):
    assert m.judge(answer, ["Delhi"]) == verdict


def test_rates_add_up():
    r = m.rates(["correct", "abstain", "hallucinated", "hallucinated"])
    assert (r.accuracy, r.abstention, r.hallucination, r.n) == (0.25, 0.25, 0.5, 4)
    assert m.rates([]).n == 0


def test_curve_area():
    assert m.curve_area([0, 1], [1, 0]) == pytest.approx(0.5)
    assert m.curve_area([0.0, 0.5, 1.0], [1.0, 1.0, 0.0]) == pytest.approx(0.75)
    assert m.curve_area([1.0, 0.0, 0.5], [0.0, 1.0, 1.0]) == pytest.approx(0.75)  # order-free
    assert m.curve_area([0.0, 0.4], [0.2, 0.4]) == pytest.approx(0.3)  # normalised by the range
    assert m.curve_area([0.3], [0.7]) == 0.7


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("Delhi", "grounded"),  # the claim is in the relevant passage
        ("The head office is in Mumbai.", "noise"),  # only the noise passage backs it
        ("It is in Paris.", "unsupported"),  # nothing backs it: hallucinated
        ("The Oberoi Group head office city", "unsupported"),  # restates the question: no claim left
        ("I cannot answer.", "abstain"),
        ("Delhi, not Mumbai", "grounded"),  # 1 of 2 claim tokens relevant: >= 0.5
    ],
)
def test_groundedness(answer, expected):
    from harness.rag.groundedness import ground

    question = "The Oberoi Group has a head office in what city?"
    relevant = ["The Oberoi Group is a hotel company with its head office in Delhi."]
    noise = ["Mumbai is the financial capital of India; many companies have their head office there."]
    assert ground(answer, question, relevant, noise) == expected


def test_groundedness_crosstab():
    from harness.rag.groundedness import crosstab

    rows = [
        {"verdict": "correct", "grounding": "grounded"},
        {"verdict": "correct", "grounding": "grounded"},
        {"verdict": "hallucinated", "grounding": "noise"},
        {"question": "no verdict"},
    ]
    assert crosstab(rows) == {"correct": {"grounded": 2}, "hallucinated": {"noise": 1}}


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("Christopher Marlowe wrote it.", True),
        ("marlowe", True),
        ("Marlowes play", False),  # whole words, as for correctness
        ("Shakespeare", False),
    ],
)
def test_adopts_counterfactual(answer, expected):
    assert m.adopts_counterfactual(answer, ["Marlowe", "Christopher Marlowe"]) is expected


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("There are factual errors in the provided documents.", True),  # RGB's own phrase
        ("The passages contradict each other.", True),
        ("That is incorrect: it was Shakespeare.", True),
        ("The context is wrong; Shakespeare wrote it.", True),
        ("This claim isn't true.", True),
        ("The documents are inconsistent.", True),
        ("Shakespeare wrote Hamlet.", False),
        ("I cannot answer.", False),  # declining is not detecting
        ("Errorless prose by Wrongfield", False),  # whole words only
    ],
)
def test_detects_error(answer, expected):
    assert m.detects_error(answer) is expected
