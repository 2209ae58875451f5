"""Name search at 100,000 cases: `CaseService.list` with `q` through the blind name index, beside the search that
opens every case (the path before the index, forced by marking the index incomplete).

The cases are written in bulk (untimed): one CaseOpened per case with its person sealed under its own data key,
chained as the store chains them, the wrapped keys and the name index rows beside them, then the projections
rebuilt from the log. Names are a first name and a surname drawn from lists (about 125 cases per surname), so a
surname alone finds about 125 cases, a full name a few. Usage: python -m bench.name_search [--cases N]
[--old-cases N] [--queries N] [--postgres]."""
from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from datetime import datetime, timezone

from .common import fresh_dir, median, percentile

FIRST = ("Ilhom Rustam Shukhrat Bakhodir Dilshod Farrukh Jasur Otabek Sardor Timur Anvar Botir Jamshid Kamol "
         "Nodir Rustam Ulugbek Zafar Aziz Bekzod Davron Eldor Fayz Hasan Ibrohim Komil Laziz Mansur Nurali "
         "Oybek Rashid Sanjar Tohir Umid Vohid Yusuf Zokir Aida Dilnoza Gulnara Kamila Madina Nigora Shahnoza "
         "Zarina Ayse Mehmet Mustafa Ahmet Ali Hüseyin Ibrahim Şükrü Ömer Ivan Sergei Dmitriy Pavel").split()
ROOTS = ("Akhmed Khudayram Yusup Karim Rakhim Sharip Tursun Umar Rasul Sadik Safar Salim Sobir Sultan Ergash "
         "Fayzull Gani Hamid Ibragim Ismoil Jura Khodja Kurban Mahmud Mirza Murod Nazar Nemat Normat Odil Pulat "
         "Rakhmon Usmon Vali Yuldash Zakir Abdull Abdurakhman Gulom Kodir Tsoy Nurmagambet Zhumaba Aben Atamba "
         "Tashi Saidov Nabi Mirzo Berdimuhamed Niyaz Ata Oraz Alim Azim Bakir Bobo Davlet Hamrak Inoyat Jalil "
         "Kasim Latip Majid Nasyr Obid Parpi Kayum Rustam Sattor Tolib Urin Hasil Yakub Zaynidin Ashur Badal "
         "Chori Dusmat Egam Fatkhull Gaffar Haydar Irgash Jabbar Kamal Lutful Makhkam Nabij Olim Pardabay "
         "Kakhar Rajab Sharof Tokhtasin Usar Khalil Yormat Zufar Akram Bahrom Chinni Dzhalol Ermat Fozil Gayrat "
         "Hikmat Isak Jumaniyaz Komil Lochin Mukhtor Nurull Ochil Polvon Kuvondik Ravshan Sarvar Temur Uktam "
         "Vakhid Khurshid Yodgor Zokir Adkham Bekmurad Chary Dovlet Eziz Firuz Gurban Hoja Ilyas Jepbar Kakajan "
         "Leyli Mekan Nury Ovez Perhat Kurbandurd Rejep Serdar Tagan Ussa Welmyrad Yagmyr Zelili").split()
ENDINGS = ("ov", "ev", "ova", "eva")


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(ROOTS)}{rng.choice(ENDINGS)}"


def fill(box, cases: int, seed: int = 17, chunk: int = 2000) -> tuple[list[str], float]:
    """Write `cases` opened cases in bulk; returns their names (in order) and the seconds it took."""
    from events.case_projections import rebuild
    from events.fastsql import Raw
    from events.hashchain import GENESIS, chain_hash
    from events.name_keys import person_names
    from events.personal_data import PersonalDataCipher
    from events.records import canonical_event
    from events.store import INSERT_EVENT, _dumps
    from events.tables import case_keys, name_index
    from events.transactions import writing

    insert = INSERT_EVENT.format(log_index="NULL").split(" RETURNING")[0]
    rng = random.Random(seed)
    cipher, data_keys, names = box.cases.cipher, box.cases.data_keys, box.cases.names
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    written: list[str] = []
    for first in range(0, cases, chunk):
        events, keys, index = [], [], []
        for _ in range(min(chunk, cases - first)):
            case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            person = {"name": person_name(rng), "aliases": []}
            written.append(person["name"])
            data_key = PersonalDataCipher.new_key()
            data = {"person": cipher.seal(data_key, case_id, person), "country": rng.choice(("TR", "FR", "DE")),
                    "origin_country": rng.choice(("UZ", "TJ", "TM", "KZ")), "tags": [],
                    "teams": [rng.choice(("rapid-response", "istanbul", "paris"))], "summary": None}
            text = _dumps(data)
            event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            digest = chain_hash(GENESIS, canonical_event(event_id, case_id, 1, "CaseOpened", 1, at, "exact", at,
                                                         "bench-load", text, None))
            events.append({"event_id": event_id, "stream_id": case_id, "version": 1, "type": "CaseOpened",
                           "schema_version": 1, "occurred_at": at, "date_precision": "exact", "recorded_at": at,
                           "actor": "bench-load", "data": text, "source": None, "idempotency_key": None,
                           "request_hash": None, "prev_hash": GENESIS, "hash": digest})
            keys.append({"case_id": case_id, "wrapped_key": data_keys.wrap(case_id, data_key), "created_at": at})
            index += [{"case_id": case_id, "hash": h} for h in names.digests(person_names(person))]
        with writing(box.engine) as conn:
            raw = Raw(conn)
            for row in events:
                row["occurred_at"] = row["recorded_at"] = raw.time(at)
            raw.many(insert, events)
            conn.execute(case_keys.insert(), keys)
            conn.execute(name_index.insert(), index)
    rebuild(box.engine)
    if box.engine.dialect.name == "postgresql":
        with box.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return written, time.perf_counter() - started


def queries(rng: random.Random, names: list[str], n: int) -> list[str]:
    """A mix as caseworkers type: a full name in another script or spelling, a surname alone, and a name no case
    has."""
    out = []
    for i in range(n):
        first, surname = rng.choice(names).split(" ", 1)
        kind = i % 4
        if kind == 0:
            out.append(f"{first} {surname}")
        elif kind == 1:
            out.append(surname.replace("kh", "h").replace("Kh", "H"))
        elif kind == 2:
            out.append(f"{surname.upper()} {first.lower()}")
        else:
            out.append(f"Nobody{i} Nowhere")
    return out


def timed_searches(box, terms: list[str], complete: bool) -> tuple[list[float], list[int]]:
    from sqlalchemy import update

    from events.tables import name_index_state
    from service.access import SYSTEM
    from service.cases import CaseFilters

    with box.engine.begin() as conn:
        conn.execute(update(name_index_state).values(complete=complete))
    times, hits = [], []
    for term in terms:
        started = time.perf_counter()
        page, _ = box.cases.list(SYSTEM, CaseFilters(q=term), 50, 0)
        times.append((time.perf_counter() - started) * 1000)
        hits.append(len(page))
    return times, hits


def run(url: str, workdir: str, cases: int, old_cases: int, n_queries: int) -> list[str]:
    from events.engine import make_engine
    from events.migrations import upgrade
    from events.personal_data import new_master_key
    from service.container import build_container
    from service.settings import Settings

    os.environ["VIGIL_KEYRING_FILE"] = os.path.join(workdir, "keyring")
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(_env_file=None, database_url=url, master_key=new_master_key(), run_worker=False,
                        master_key_file=os.path.join(workdir, "no.key"))
    box = build_container(settings, engine=engine)
    rng = random.Random(5)
    lines = []
    names, seconds = fill(box, old_cases)
    terms = queries(rng, names, 8)
    old, old_hits = timed_searches(box, terms, complete=False)
    new_small, _ = timed_searches(box, terms, complete=True)
    lines.append(f"old path at {old_cases:,} cases (filled in {seconds:.1f} s): {len(old)} searches, median "
                 f"{median(old):.1f} ms, max {max(old):.1f} ms; the index at the same size: median "
                 f"{median(new_small):.2f} ms")
    more, seconds = fill(box, cases - old_cases, seed=18)
    names += more
    terms = queries(rng, names, n_queries)
    timed_searches(box, terms[:20], complete=True)  # warm the caches as a running server has them
    new, hits = timed_searches(box, terms, complete=True)
    lines.append(f"index at {cases:,} cases (the rest filled in {seconds:.1f} s): {len(new)} searches, median "
                 f"{median(new):.2f} ms, p99 {percentile(new, 99):.2f} ms, max {max(new):.2f} ms; "
                 f"cases on the first page: median {median(hits):.0f}, max {max(hits)}")
    by_kind = {k: [t for i, t in enumerate(new) if i % 4 == k] for k in range(4)}
    lines.append("p99 by kind: " + ", ".join(f"{label} {percentile(by_kind[k], 99):.2f} ms" for k, label in
                                            enumerate(("full name", "surname (h for kh)", "SURNAME first",
                                                       "no such name"))))
    old_big, _ = timed_searches(box, terms[:3], complete=False)  # about 25 s each at 100,000 on SQLite
    lines.append(f"old path at {cases:,} cases: {len(old_big)} searches, median {median(old_big):.0f} ms, "
                 f"max {max(old_big):.0f} ms")
    box.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--old-cases", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with fresh_dir("names") as workdir:
        if args.postgres:
            from .pg import start_durable_postgres

            server = start_durable_postgres()
            server.create_database("names")
            try:
                lines = run(server.sqlalchemy_url("names"), workdir, args.cases, args.old_cases, args.queries)
            finally:
                server.stop()
        else:
            lines = run(f"sqlite:///{workdir}/names.db", workdir, args.cases, args.old_cases, args.queries)
    print(("PostgreSQL" if args.postgres else "SQLite") + f", load average {os.getloadavg()[0]:.2f}")
    for line in lines:
        print("- " + line)


if __name__ == "__main__":
    main()
