"""The bulk path's shortcuts give the very values of the general functions they stand in for."""
import json
import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

import pytest

from events.compact_json import compact, compact_sorted
from events.records import StoredEvent, stored_event
from events.fastsql import positional
from events.utc import iso, iso_and_db, to_db
from service.importer import ID_SPACE, derived_id

zones = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60))
moments = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30), timezones=zones)


@given(moments, st.booleans())
def test_iso_and_db_equals_iso_and_to_db(moment, postgres):
    assert iso_and_db(moment, postgres) == (iso(moment), to_db(moment, postgres))


@given(st.text())
def test_derived_id_equals_uuid5(name):
    try:
        expected = str(uuid.uuid5(ID_SPACE, name))
    except UnicodeEncodeError:  # a lone surrogate: neither can encode it
        try:
            derived_id(name)
        except UnicodeEncodeError:
            return
        raise AssertionError("derived_id encoded what uuid5 cannot")
    assert derived_id(name) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@given(json_values)
def test_compact_json_is_json_dumps(value):
    assert compact(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert compact_sorted(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def test_compact_json_refuses_what_json_dumps_refuses():
    with pytest.raises(TypeError, match="datetime is not JSON serializable"):
        compact_sorted({"at": datetime(2024, 1, 1)})


def test_positional_sql_keeps_the_order_of_the_names():
    sql = "INSERT INTO t (a, b) VALUES (:b_first, :a) ON CONFLICT DO NOTHING"
    assert positional(sql, postgres=False) == "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT DO NOTHING"
    assert positional(sql, postgres=True) == "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT DO NOTHING"


def test_stored_event_equals_the_constructor():
    values = (0, "e", "s", 2, "Detained", 1, datetime(2024, 1, 1, tzinfo=timezone.utc), "exact",
              datetime(2024, 1, 2, tzinfo=timezone.utc), "import", "{}", None, "p", "h", 7)
    fast = stored_event(values)
    assert fast == StoredEvent(*values) and hash(fast) == hash(StoredEvent(*values))
    with pytest.raises(AttributeError):
        fast.version = 3  # still frozen
