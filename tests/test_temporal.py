from datetime import date

import pytest

from rag.dates import Fit, Period, event_dates, find_period, inferred_date, passage_fit

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


def test_period_membership():
    march = Period(date(2023, 3, 1), date(2023, 3, 31), "month")
    assert march.contains(date(2023, 3, 27)) and not march.contains(date(2023, 4, 1)) and not march.contains(None)


THURSDAY = date(2021, 3, 25)


def _resolved(sentence: str, published: date | None = THURSDAY) -> dict[str, str]:
    return {event.phrase: event.label() for event in event_dates(sentence, published)}


def test_weekdays_resolve_against_the_article_date():
    assert _resolved("North Korea fired two missiles on Thursday.") == {"Thursday": "2021-03-25"}
    assert _resolved("Another two were fired on Tuesday, and more on Saturday and Sunday.") == {
        "Tuesday": "2021-03-23", "Saturday": "2021-03-20", "Sunday": "2021-03-21"}
    # A sentence that looks ahead means the coming weekday.
    assert _resolved("The carrier is due to dock in Busan on Tuesday.", date(2023, 3, 27)) == {"Tuesday": "2023-03-28"}


def test_relative_phrases_resolve_against_the_article_date():
    assert _resolved("A statement last month said so; last year it was worse.") == {
        "last month": "2021-02-01 to 2021-02-28", "last year": "2020-01-01 to 2020-12-31"}
    assert _resolved("Earlier this week the envoy arrived.") == {"Earlier this week": "2021-03-22 to 2021-03-28"}
    assert _resolved("One week ago, the ambassador spoke.", date(2023, 3, 27)) == {"One week ago": "2023-03-20"}


def test_partial_dates_take_the_nearest_year_and_full_dates_stand():
    assert _resolved("Drills continue until March 23.") == {"March 23": "2021-03-23"}
    assert _resolved("In December, talks stalled.", date(2021, 1, 10)) == {"In December": "2020-12-01 to 2020-12-31"}
    assert _resolved("Sanctions came between 2006 and 2017, and on Sept. 3, 2017.") == {
        "2006": "2006-01-01 to 2006-12-31", "2017": "2017-01-01 to 2017-12-31", "Sept. 3, 2017": "2017-09-03"}


def test_an_undated_article_keeps_partial_dates_partial_and_cannot_date_relative_ones():
    found = event_dates("Drills continue until March 23, after Tuesday's launch and last week's talks.", None)
    assert [(event.phrase, event.first, event.month, event.day, event.label()) for event in found] == [
        ("March 23", None, 3, 23, "March 23, year unknown")]
    assert _resolved("The summit met in 2019 and on 5 May 2020.", None) == {"2019": "2019-01-01 to 2019-12-31", "5 May 2020": "2020-05-05"}


def test_words_that_only_look_like_dates_are_not_dates():
    assert _resolved("Officials may march on, said Will, despite five years of talks and 2,000 troops.") == {}


def test_a_passage_fits_a_period_by_its_event_dates_and_says_which_date_decided():
    march_20 = Period(date(2021, 3, 20), date(2021, 3, 20), "day")
    saturday = event_dates("They fired on Saturday.", THURSDAY)
    assert passage_fit(march_20, THURSDAY, saturday) == (Fit.INSIDE, 'event date 2021-03-20 ("Saturday")')
    assert passage_fit(march_20, THURSDAY, ()) == (Fit.OUTSIDE, "")
    march_2021 = Period(date(2021, 3, 1), date(2021, 3, 31), "month")
    assert passage_fit(march_2021, THURSDAY, ()) == (Fit.INSIDE, "article date 2021-03-25")
    # A year does not put a sentence in one month of it; a month or day without a year may.
    january = Period(date(2022, 1, 1), date(2022, 1, 31), "month")
    assert passage_fit(january, date(2023, 3, 27), event_dates("After 70 launches in 2022.", date(2023, 3, 27)))[0] is Fit.OUTSIDE
    partial = event_dates("The first test was on Jan. 5.", None)
    assert passage_fit(january, None, (), partial) == (Fit.POSSIBLE, '"Jan. 5", January 5, year unknown')
    assert passage_fit(january, None, (), event_dates("The test was on Feb. 5.", None)) == (Fit.UNDATED, "")


def test_an_undated_article_gets_a_date_from_its_dateline_or_the_latest_date_it_states():
    assert inferred_date("SEOUL, March 5, 2023 - North Korea fired...\nMore text.") == (
        date(2023, 3, 5), 'inferred from the dateline "March 5, 2023"')
    assert inferred_date("Missiles flew.\nOn Jan. 2, 2022 and on 4 February 2022 it fired again.") == (
        date(2022, 2, 4), 'inferred from the latest date the text states, "4 February 2022"')
    assert inferred_date("Missiles flew on Tuesday, in 2019 and until March 23.") is None
