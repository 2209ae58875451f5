"""Reading an import file: each line's byte count is its own, however many rows in a row are bad CSV."""
from __future__ import annotations

from service.import_lines import reader_for


def test_bad_csv_rows_each_count_their_own_bytes():
    # A run of rows the csv module refuses used to report the sum of every one before it: the progress bar's bytes
    # grew quadratically, and so did the time (80,000 such rows, half a megabyte, took 43 s to read).
    body = b"type,case_ref\n" + b'"a"b,c\n' * 3000
    read = list(reader_for("csv", body))
    assert len(read) == 3000
    assert all(problem.field == "line" for _, problem, _, _ in read)
    assert sum(size for _, _, size, _ in read) == len(body)


def test_good_rows_after_bad_ones_count_their_own_bytes():
    body = b"type,case_ref\n" + b'"a"b,c\n' + b"released,r1\n"
    read = list(reader_for("csv", body))
    assert [type(obj).__name__ for _, obj, _, _ in read] == ["Problem", "dict", "dict"]  # bad; case; event
    assert sum(size for _, _, size, _ in read) == len(body)
