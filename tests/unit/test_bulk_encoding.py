"""The bulk path's shortcuts give the very values of the general functions they stand in for."""
import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

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
