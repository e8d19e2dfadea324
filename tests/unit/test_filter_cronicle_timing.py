"""cronicle_timing / cronicle_schedule_error: cron strings (man 5 crontab) as Cronicle timing objects.

Cronicle's timing object lists the allowed values of each unit (minutes 0-59, hours 0-23, days 1-31, months 1-12,
weekdays 0-6 with Sunday 0, years); a unit that is left out means every value, as `*` in cron. So a field that
allows every value is absent from the expected timing, and `* * * * *` is `{}`.

Every expectation below is written out by hand from cron's meaning, never computed.
"""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vixtract.stack.plugins.filter.cronicle import (FilterModule, cronicle_schedule_error,
                                                                        cronicle_timing)

ODD_DAYS = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]

# id: (cron string, Cronicle timing)
ACCEPTED = {
    # single values
    "one value in each restricted field": (
        "30 2 15 6 *", {"minutes": [30], "hours": [2], "days": [15], "months": [6]}),
    "nightly at 02:00": ("0 2 * * *", {"minutes": [0], "hours": [2]}),
    "one weekday": ("0 9 * * 1", {"minutes": [0], "hours": [9], "weekdays": [1]}),
    "highest value of each field": ("59 23 31 12 *", {"minutes": [59], "hours": [23], "days": [31], "months": [12]}),
    "lowest value of each field": ("0 0 1 1 *", {"minutes": [0], "hours": [0], "days": [1], "months": [1]}),
    "leading zeros": ("05 08 * * *", {"minutes": [5], "hours": [8]}),
    # lists
    "list of minutes": ("0,15,45 * * * *", {"minutes": [0, 15, 45]}),
    "unsorted list with a repeat is sorted once": ("45,5,45,20 * * * *", {"minutes": [5, 20, 45]}),
    "list of months": ("0 0 1 1,4,7,10 *", {"minutes": [0], "hours": [0], "days": [1], "months": [1, 4, 7, 10]}),
    "list of ranges and values": ("0 8-10,12,14-15 * * *", {"minutes": [0], "hours": [8, 9, 10, 12, 14, 15]}),
    # ranges
    "range of hours": ("0 9-17 * * *", {"minutes": [0], "hours": [9, 10, 11, 12, 13, 14, 15, 16, 17]}),
    "range of weekdays": ("0 9 * * 1-5", {"minutes": [0], "hours": [9], "weekdays": [1, 2, 3, 4, 5]}),
    "range of days": ("0 0 1-7 * *", {"minutes": [0], "hours": [0], "days": [1, 2, 3, 4, 5, 6, 7]}),
    "range of one value": ("0 5-5 * * *", {"minutes": [0], "hours": [5]}),
    # steps on *
    "every 15 minutes": ("*/15 * * * *", {"minutes": [0, 15, 30, 45]}),
    "every 7 minutes restarts at 0 each hour": ("*/7 * * * *", {"minutes": [0, 7, 14, 21, 28, 35, 42, 49, 56]}),
    "every 2 hours": ("0 */2 * * *", {"minutes": [0], "hours": [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]}),
    "every 10 days counts from day 1": ("0 0 */10 * *", {"minutes": [0], "hours": [0], "days": [1, 11, 21, 31]}),
    "every 3 months counts from January": ("0 0 1 */3 *", {"minutes": [0], "hours": [0], "days": [1],
                                                           "months": [1, 4, 7, 10]}),
    "every other weekday from Sunday": ("0 0 * * */2", {"minutes": [0], "hours": [0], "weekdays": [0, 2, 4, 6]}),
    "step 1 on * is every value": ("*/1 * * * *", {}),
    # steps on ranges
    "step on a range of minutes": ("0-30/10 * * * *", {"minutes": [0, 10, 20, 30]}),
    "step that does not land on the range's end": ("1-10/4 * * * *", {"minutes": [1, 5, 9]}),
    "office hours on weekdays every quarter hour": (
        "*/15 9-17 * * 1-5",
        {"minutes": [0, 15, 30, 45], "hours": [9, 10, 11, 12, 13, 14, 15, 16, 17], "weekdays": [1, 2, 3, 4, 5]}),
    "step on a range of hours": ("0 9-17/4 * * *", {"minutes": [0], "hours": [9, 13, 17]}),
    "step on a weekday range ending on 7": ("0 0 * * 1-7/2", {"minutes": [0], "hours": [0], "weekdays": [0, 1, 3, 5]}),
    "step on a range in a list": ("0-10/5,30 * * * *", {"minutes": [0, 5, 10, 30]}),
    # steps on a single start value: N/S is N to the end of the field by S
    "minute 5 every 20 minutes": ("5/20 * * * *", {"minutes": [5, 25, 45]}),
    "day 10 every 10 days": ("0 0 10/10 * *", {"minutes": [0], "hours": [0], "days": [10, 20, 30]}),
    "hour 20 every hour": ("0 20/1 * * *", {"minutes": [0], "hours": [20, 21, 22, 23]}),
    # names
    "month names": ("0 0 1 jan,jul *", {"minutes": [0], "hours": [0], "days": [1], "months": [1, 7]}),
    "range of month names": ("0 0 1 mar-may *", {"minutes": [0], "hours": [0], "days": [1], "months": [3, 4, 5]}),
    "step on a range of month names": ("0 0 1 jan-dec/3 *", {"minutes": [0], "hours": [0], "days": [1],
                                                             "months": [1, 4, 7, 10]}),
    "every month by name is every month": ("0 0 1 jan-dec *", {"minutes": [0], "hours": [0], "days": [1]}),
    "weekday names": ("0 9 * * mon,wed,fri", {"minutes": [0], "hours": [9], "weekdays": [1, 3, 5]}),
    "range of weekday names": ("0 9 * * mon-fri", {"minutes": [0], "hours": [9], "weekdays": [1, 2, 3, 4, 5]}),
    "sunday by name": ("0 0 * * sun", {"minutes": [0], "hours": [0], "weekdays": [0]}),
    "names in upper and mixed case": ("0 9 * JAN,Feb MON-Fri", {"minutes": [0], "hours": [9], "months": [1, 2],
                                                                "weekdays": [1, 2, 3, 4, 5]}),
    "names and numbers mixed": ("0 0 * * sat,1", {"minutes": [0], "hours": [0], "weekdays": [1, 6]}),
    # 7 is Sunday
    "7 is sunday": ("0 0 * * 7", {"minutes": [0], "hours": [0], "weekdays": [0]}),
    "range ending on 7 includes sunday": ("0 0 * * 5-7", {"minutes": [0], "hours": [0], "weekdays": [0, 5, 6]}),
    "0 and 7 are the same sunday": ("0 0 * * 0,7", {"minutes": [0], "hours": [0], "weekdays": [0]}),
    "saturday and 7 by name and number": ("0 0 * * sat,7", {"minutes": [0], "hours": [0], "weekdays": [0, 6]}),
    "1-7 is every weekday": ("0 0 * * 1-7", {"minutes": [0], "hours": [0]}),
    "0-7 is every weekday": ("0 0 * * 0-7", {"minutes": [0], "hours": [0]}),
    "0-6 is every weekday": ("0 0 * * 0-6", {"minutes": [0], "hours": [0]}),
    # every value
    "every minute": ("* * * * *", {}),
    "ranges over whole fields are every value": ("0-59 0-23 1-31 1-12 *", {}),
    # macros
    "@yearly": ("@yearly", {"minutes": [0], "hours": [0], "days": [1], "months": [1]}),
    "@annually": ("@annually", {"minutes": [0], "hours": [0], "days": [1], "months": [1]}),
    "@monthly": ("@monthly", {"minutes": [0], "hours": [0], "days": [1]}),
    "@weekly": ("@weekly", {"minutes": [0], "hours": [0], "weekdays": [0]}),
    "@daily": ("@daily", {"minutes": [0], "hours": [0]}),
    "@midnight": ("@midnight", {"minutes": [0], "hours": [0]}),
    "@hourly": ("@hourly", {"minutes": [0]}),
    # day of month and day of week: a field starting with * does not restrict the day (man 5 crontab), so a day
    # must match both fields, as in Cronicle
    "odd days that are mondays": ("0 0 */2 * 1", {"minutes": [0], "hours": [0], "days": ODD_DAYS, "weekdays": [1]}),
    "the 13th when it is sunday, tuesday, thursday or saturday": (
        "0 0 13 * */2", {"minutes": [0], "hours": [0], "days": [13], "weekdays": [0, 2, 4, 6]}),
    # both restricted: cron runs when either matches, so a field naming every day makes every day match
    "days 1-31 or mondays is every day": ("0 0 1-31 * 1", {"minutes": [0], "hours": [0]}),
    "the 1st or any weekday 0-6 is every day": ("0 0 1 * 0-6", {"minutes": [0], "hours": [0]}),
    "the 1st or sun-sat is every day": ("0 0 1 * sun-sat", {"minutes": [0], "hours": [0]}),
    "the 1st or any weekday 1-7 is every day": ("0 0 1 * 1-7", {"minutes": [0], "hours": [0]}),
}

FIVE_FIELDS = "must have 5 fields (minute hour day-of-month month day-of-week)"
EITHER_DAY = ("restricts both day of month and day of week; cron would run on either, Cronicle only on both: "
              "restrict one of them")

# id: (cron string or other value, the reason)
REFUSED = {
    # out of range
    "minute 60": ("60 * * * *", "minute '60' is out of range 0-59"),
    "hour 24": ("0 24 * * *", "hour '24' is out of range 0-23"),
    "day 0": ("0 0 0 * *", "day of month '0' is out of range 1-31"),
    "day 32": ("0 0 32 * *", "day of month '32' is out of range 1-31"),
    "month 0": ("0 0 1 0 *", "month '0' is out of range 1-12"),
    "month 13": ("0 0 1 13 *", "month '13' is out of range 1-12"),
    "weekday 8": ("0 0 * * 8", "day of week '8' is out of range 0-7"),
    "end of a range out of range": ("0 20-24 * * *", "hour '24' is out of range 0-23"),
    "value in a list out of range": ("0,60 * * * *", "minute '60' is out of range 0-59"),
    "start of a step out of range": ("60/5 * * * *", "minute '60' is out of range 0-59"),
    # backwards ranges
    "backwards range of minutes": ("30-10 * * * *", "minute range '30-10' runs backwards"),
    "backwards range with a step": ("0 17-9/2 * * *", "hour range '17-9' runs backwards"),
    "backwards range of weekday names": ("0 0 * * fri-mon", "day of week range 'fri-mon' runs backwards"),
    "backwards range from 7": ("0 0 * * 7-1", "day of week range '7-1' runs backwards"),
    # steps
    "step 0": ("*/0 * * * *", "minute step '0' must be a positive number"),
    "step 0 on a range": ("1-10/0 * * * *", "minute step '0' must be a positive number"),
    "negative step": ("*/-5 * * * *", "minute step '-5' must be a positive number"),
    "step that is not a number": ("0 */x * * *", "hour step 'x' must be a positive number"),
    "step that is not an integer": ("*/1.5 * * * *", "minute step '1.5' must be a positive number"),
    "empty step": ("0 */ * * *", "hour step '' must be a positive number"),
    "step in arabic-indic digits": ("*/\u0663 * * * *", "minute step '\u0663' must be a positive number"),
    "step given as a weekday name": ("0 0 * * */mon", "day of week step 'mon' must be a positive number"),
    # not numbers, wrong names
    "letters": ("x * * * *", "minute 'x' is not a number"),
    "decimal": ("1.5 * * * *", "minute '1.5' is not a number"),
    "arabic-indic digit": ("\u0663 * * * *", "minute '\u0663' is not a number"),
    "superscript digit": ("\u00b2 * * * *", "minute '\u00b2' is not a number"),
    "month name as a minute": ("jan * * * *", "minute 'jan' is not a number"),
    "weekday name as a day of month": ("0 0 mon * *", "day of month 'mon' is not a number"),
    "weekday name as a month": ("0 0 1 mon *", "month 'mon' is not a number"),
    "month name as a weekday": ("0 0 * * jan", "day of week 'jan' is not a number"),
    "full month name": ("0 0 1 january *", "month 'january' is not a number"),
    "full weekday name": ("0 0 * * monday", "day of week 'monday' is not a number"),
    "garbage weekday name": ("0 0 * * xyz", "day of week 'xyz' is not a number"),
    # wrong field count
    "four fields": ("0 2 * *", "'0 2 * *' " + FIVE_FIELDS),
    "six fields": ("0 0 2 * * *", "'0 0 2 * * *' " + FIVE_FIELDS),
    "empty string": ("", "'' " + FIVE_FIELDS),
    "only blanks": ("   ", "'   ' " + FIVE_FIELDS),
    "@reboot, which Cronicle cannot do": ("@reboot", "'@reboot' " + FIVE_FIELDS),
    "unknown macro": ("@fortnightly", "'@fortnightly' " + FIVE_FIELDS),
    # not a string
    "number": (5, "'5' is not a cron string"),
    "none": (None, "'None' is not a cron string"),
    "list of fields": (["0", "2", "*", "*", "*"], "'['0', '2', '*', '*', '*']' is not a cron string"),
    # day of month and day of week both restricted: cron runs on either, Cronicle would only run on both
    "friday the 13th": ("0 0 13 * fri", "'0 0 13 * fri' " + EITHER_DAY),
    "1st and 15th or weekdays": ("0 0 1,15 * 1-5", "'0 0 1,15 * 1-5' " + EITHER_DAY),
    "the 1st or sundays": ("0 0 1 * 0", "'0 0 1 * 0' " + EITHER_DAY),
}

# Cronicle timing objects given as the schedule: checked, sorted, repeats dropped
TIMINGS = {
    "hours and minutes": ({"hours": [2], "minutes": [0]}, {"hours": [2], "minutes": [0]}),
    "empty timing is every minute": ({}, {}),
    "unsorted values with a repeat": ({"minutes": [30, 0, 30]}, {"minutes": [0, 30]}),
    "every unit": (
        {"years": [2030], "months": [12], "days": [24], "weekdays": [0, 6], "hours": [18], "minutes": [0]},
        {"years": [2030], "months": [12], "days": [24], "weekdays": [0, 6], "hours": [18], "minutes": [0]}),
    "lowest and highest values": (
        {"months": [12, 1], "days": [31, 1], "weekdays": [6, 0], "hours": [23, 0], "minutes": [59, 0]},
        {"months": [1, 12], "days": [1, 31], "weekdays": [0, 6], "hours": [0, 23], "minutes": [0, 59]}),
}

REFUSED_TIMINGS = {
    "unknown unit": ({"seconds": [0]},
                     "timing key 'seconds' is not one of years, months, days, weekdays, hours, minutes"),
    "cron field name as unit": ({"minute": [0]},
                                "timing key 'minute' is not one of years, months, days, weekdays, hours, minutes"),
    "empty list": ({"hours": []}, "timing 'hours' must be a non-empty list of numbers 0-23"),
    "number instead of a list": ({"hours": 2}, "timing 'hours' must be a non-empty list of numbers 0-23"),
    "weekday 7 (Cronicle's Sunday is 0)": ({"weekdays": [7]},
                                           "timing 'weekdays' must be a non-empty list of numbers 0-6"),
    "day 0": ({"days": [0]}, "timing 'days' must be a non-empty list of numbers 1-31"),
    "month 13": ({"months": [1, 13]}, "timing 'months' must be a non-empty list of numbers 1-12"),
    "minute 60": ({"minutes": [60]}, "timing 'minutes' must be a non-empty list of numbers 0-59"),
    "number as a string": ({"minutes": ["5"]}, "timing 'minutes' must be a non-empty list of numbers 0-59"),
    "boolean": ({"minutes": [True]}, "timing 'minutes' must be a non-empty list of numbers 0-59"),
    "year before 1970": ({"years": [1969]}, "timing 'years' must be a non-empty list of numbers 1970-3000"),
}


def cases(table):
    return pytest.mark.parametrize("given, expected", list(table.values()), ids=list(table))


@cases(ACCEPTED)
def test_cron_string_becomes_this_timing(given, expected):
    assert cronicle_timing(given) == expected


@cases(ACCEPTED)
def test_valid_cron_string_has_no_schedule_error(given, expected):
    assert cronicle_schedule_error(given) == ""


@cases(REFUSED)
def test_schedule_error_names_the_reason(given, expected):
    assert cronicle_schedule_error(given) == expected


@cases(REFUSED)
def test_refused_cron_string_fails_the_filter_with_the_reason(given, expected):
    with pytest.raises(AnsibleFilterError) as error:
        cronicle_timing(given)
    assert error.value.message == "invalid schedule: " + expected


@cases(TIMINGS)
def test_timing_object_is_checked_and_sorted(given, expected):
    assert cronicle_timing(given) == expected


@cases(TIMINGS)
def test_valid_timing_object_has_no_schedule_error(given, expected):
    assert cronicle_schedule_error(given) == ""


def test_timing_object_given_is_not_modified():
    given = {"minutes": [30, 0, 30]}
    cronicle_timing(given)
    assert given == {"minutes": [30, 0, 30]}


@cases(REFUSED_TIMINGS)
def test_timing_object_error_names_the_reason(given, expected):
    assert cronicle_schedule_error(given) == expected


@cases(REFUSED_TIMINGS)
def test_refused_timing_object_fails_the_filter_with_the_reason(given, expected):
    with pytest.raises(AnsibleFilterError) as error:
        cronicle_timing(given)
    assert error.value.message == "invalid schedule: " + expected


def test_collection_exposes_the_four_filters():
    filters = FilterModule().filters()
    assert sorted(filters) == ["cronicle_category", "cronicle_event", "cronicle_schedule_error", "cronicle_timing"]
    assert filters["cronicle_timing"] is cronicle_timing
    assert filters["cronicle_schedule_error"] is cronicle_schedule_error
