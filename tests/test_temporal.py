from datetime import date

import pytest

from rag.temporal import Period, find_period

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "question, start, end",
    [
        ("How far did the March 2023 missiles fly?", date(2023, 3, 1), date(2023, 3, 31)),
        ("What happened in Feb. 2024?", date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("Launches in May of 2019", date(2019, 5, 1), date(2019, 5, 31)),
        ("What was fired on March 25, 2021?", date(2021, 3, 25), date(2021, 3, 25)),
        ("What was fired on 25 March 2021?", date(2021, 3, 25), date(2021, 3, 25)),
        ("Events of 2021-03-25", date(2021, 3, 25), date(2021, 3, 25)),
        ("How many missiles were fired in 2022?", date(2022, 1, 1), date(2022, 12, 31)),
        ("What did Kim do last year?", date(2025, 1, 1), date(2025, 12, 31)),
        ("Any launches this year?", date(2026, 1, 1), date(2026, 12, 31)),
        ("What happened last month?", date(2026, 10, 1), date(2026, 10, 31)),
    ],
)
def test_periods_named_in_questions(question, start, end):
    period = find_period(question, TODAY)
    assert (period.start, period.end) == (start, end)
    assert period.phrase and period.phrase in question


@pytest.mark.parametrize("question", ["How far did the missiles fly?", "Who may attend?", "What about 300 missiles?"])
def test_questions_without_a_period(question):
    assert find_period(question, TODAY) is None


def test_period_membership_and_mentions():
    march = Period(date(2023, 3, 1), date(2023, 3, 31), "month")
    assert march.contains(date(2023, 3, 27)) and not march.contains(date(2023, 4, 1)) and not march.contains(None)
    assert march.mentioned_in("drills until March 23, 2023") and not march.mentioned_in("drills until March 23")
    assert Period(date(2022, 1, 1), date(2022, 12, 31), "year").mentioned_in("70 launches in 2022")
