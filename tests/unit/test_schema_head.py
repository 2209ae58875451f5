"""The light schema check: it names the latest migration only when the files say so plainly, and a database is at
the head only when its alembic_version says exactly that."""
from pathlib import Path

from sqlalchemy import create_engine, text

from events.schema_head import at_head, head_revision


def write(folder: Path, name: str, revision: str, down: str | None) -> None:
    down_text = "None" if down is None else f'"{down}"'
    (folder / name).write_text(f'"""m"""\nrevision = "{revision}"\ndown_revision = {down_text}\n')


def test_the_shipped_migrations_have_one_plain_head():
    files = sorted(p.name for p in (Path(__file__).resolve().parents[2] / "alembic" / "versions").glob("0*.py"))
    assert head_revision() == files[-1][:4]


def test_a_chain_has_its_last_revision_as_head(tmp_path):
    write(tmp_path, "a.py", "0001", None)
    write(tmp_path, "b.py", "0002", "0001")
    assert head_revision(tmp_path) == "0002"


def test_two_heads_or_an_unreadable_file_leave_it_to_alembic(tmp_path):
    write(tmp_path, "a.py", "0001", None)
    write(tmp_path, "b.py", "0002", "0001")
    write(tmp_path, "c.py", "0003", "0001")
    assert head_revision(tmp_path) is None
    (tmp_path / "c.py").write_text('revision = "0003"\ndown_revision = ("0001", "0002")\n')  # a merge
    assert head_revision(tmp_path) is None


def test_at_head_only_with_exactly_the_head_recorded(tmp_path):
    write(tmp_path, "a.py", "0001", None)
    write(tmp_path, "b.py", "0002", "0001")
    engine = create_engine(f"sqlite:///{tmp_path}/v.db")
    assert not at_head(engine, tmp_path)  # no version table
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    assert not at_head(engine, tmp_path)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    assert at_head(engine, tmp_path)


def test_files_alembic_skips_are_skipped_and_one_it_cannot_read_leaves_it_to_alembic(tmp_path):
    write(tmp_path, "a.py", "0001", None)
    write(tmp_path, "b.py", "0002", "0001")
    (tmp_path / ".#b.py").symlink_to(tmp_path / "gone.py")  # an editor's lock file: a dangling link
    (tmp_path / "__init__.py").write_text("")
    assert head_revision(tmp_path) == "0002"
    (tmp_path / "c.py").write_bytes(b'# -*- coding: latin-1 -*-\nrevision = "0003"  # caf\xe9\ndown_revision = "0002"\n')
    assert head_revision(tmp_path) is None
