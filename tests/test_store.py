"""The version store's API, run against SQLite and a real PostgreSQL server (``store_url``)."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from budgetlib.allocator import allocate
from budgetlib.core.problems import PlanInvalid
from budgetlib.planning.validation import load_plan_data
from budgetlib.store import (
    BadVersionRef,
    EventKind,
    ImmutableVersion,
    NotAStore,
    Stage,
    StageTransitionError,
    Store,
    StoreMissing,
    StoreTooNew,
    TamperedRecord,
    UnknownVersion,
    VersionRef,
    canonical_plan_json,
    plan_hash,
    sha256_text,
)
from budgetlib.store.engine import script_head
from budgetlib.store.schema import SCHEMA_HEAD, VERSION_TABLE, metadata

from .conftest import tiny_plan_data

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def ticking():
    """A clock that advances one minute per reading (records get distinct, predictable times)."""
    counter = itertools.count()
    return lambda: T0 + timedelta(minutes=next(counter))


def tiny(**changes):
    data = tiny_plan_data()
    for path, value in changes.items():
        target = data
        *parts, last = path.split("__")
        for p in parts:
            target = target[int(p)] if p.isdigit() else target[p]
        target[int(last) if last.isdigit() else last] = value
    return load_plan_data(data)


@pytest.fixture
def store(store_url):
    with Store.open(store_url, create=True, user="Nguyễn Thị Lan", clock=ticking()) as s:
        yield s


# -- opening, creating, refusing -------------------------------------------------------------------


def test_init_marks_the_store_and_migrates_to_head(store_url):
    Store.open(store_url, create=True).close()
    with Store.open(store_url) as s:  # reopening needs no create
        with s.db.read() as conn:
            assert conn.execute(sa.text("SELECT value FROM budgetlib_meta WHERE name = 'format'")).scalar() == "budgetlib-store"
            assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == SCHEMA_HEAD
    assert script_head() == SCHEMA_HEAD


def test_migrated_schema_is_the_metadata_the_queries_use(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}), metadata)
    assert diffs == []


def test_missing_store_says_how_to_create_one(tmp_path):
    where = tmp_path / "chua_co.sqlite"
    with pytest.raises(StoreMissing) as err:
        Store.open(where)
    assert "budgetlib store init" in err.value.message("vi") and "budgetlib store init" in err.value.message("en")
    assert not where.exists()


def test_empty_postgres_database_is_not_silently_initialised(postgres_server):
    with pytest.raises(StoreMissing):
        Store.open(postgres_server.new_database())


@pytest.mark.parametrize("content", [b"PK\x03\x04 not a database", "Mã,Tên\n303,Quận Một\n".encode()])
def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path, content):
    path = tmp_path / "ke_hoach.xlsx"
    path.write_bytes(content)
    for create in (False, True):
        with pytest.raises(NotAStore) as err:
            Store.open(path, create=create)
        assert path.read_bytes() == content
    assert "không phải là kho phiên bản budgetlib" in err.value.message("vi")
    assert "is not a budgetlib version store" in err.value.message("en")


def test_another_sqlite_database_is_refused_even_for_init(tmp_path):
    import sqlite3

    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
    before = path.read_bytes()
    for create in (False, True):
        with pytest.raises(NotAStore) as err:
            Store.open(path, create=create)
    assert "accounts" in err.value.message("en")
    assert path.read_bytes() == before


def test_another_postgres_database_is_refused_without_init(postgres_server):
    import psycopg

    url = postgres_server.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id integer primary key)")
    with pytest.raises(NotAStore):
        Store.open(url)


def test_store_from_a_newer_budgetlib_is_refused(store_url):
    with Store.open(store_url, create=True) as s, s.db.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(StoreTooNew) as err:
        Store.open(store_url)
    assert "9999" in err.value.message("vi")


# -- versions and stages --------------------------------------------------------------------------


def test_save_numbers_versions_and_keeps_identical_content_once(store):
    plan = tiny()
    v1 = store.save(plan, note="bản đầu", source_name="kehoach.xlsx")
    again = store.save(plan)
    v2 = store.save(tiny(program__name="Kế hoạch thử (sửa)"))
    assert (v1.ref, v1.number, v1.stage, v1.created) == ("T@1", 1, Stage.DRAFT, True)
    assert again.created is False and again.ref == "T@1"
    assert (v2.ref, v2.parent, v2.stage) == ("T@2", "T@1", Stage.DRAFT)
    assert v1.content_hash == plan_hash(plan) == sha256_text(canonical_plan_json(plan))
    assert v1.created_by == "Nguyễn Thị Lan" and v1.created_at.tzinfo is not None
    assert [v.ref for v in store.versions()] == ["T@1", "T@2"]
    assert store.version("T").ref == "T@2" and store.version("T@latest").ref == "T@2"


def test_stored_plan_is_the_saved_plan(store, haiphong_path):
    from budgetlib.io.jsonio import load_plan

    plan = load_plan(haiphong_path)
    v = store.save(plan)
    assert store.plan(v.ref) == plan
    assert canonical_plan_json(store.plan(v.ref)) == store.document(v.ref)


def test_invalid_plan_is_not_saved(store):
    plan = tiny()
    broken = plan.model_copy(update={"tasks": [plan.tasks[0].model_copy(update={"agencies": []}), plan.tasks[1]]})
    with pytest.raises(PlanInvalid):
        store.save(broken)
    assert store.versions() == []


def test_stages_draft_submitted_approved_then_revision(store):
    v1 = store.save(tiny())
    with pytest.raises(StageTransitionError):
        store.approve(v1.ref)  # Phê duyệt needs Trình first
    assert store.submit(v1.ref, note="trình UBND").stage is Stage.SUBMITTED
    assert store.send_back(v1.ref, note="bổ sung").stage is Stage.DRAFT
    store.submit(v1.ref)
    approved = store.approve(v1.ref, user="Chủ tịch UBND", decision="Quyết định số 1234/QĐ-UBND")
    assert approved.stage is Stage.APPROVED
    assert approved.approval is not None and approved.approval.content_hash == v1.content_hash
    assert approved.approval.decision == "Quyết định số 1234/QĐ-UBND" and approved.approval.approved_by == "Chủ tịch UBND"
    assert store.version("T@approved").ref == "T@1"

    v2 = store.save(tiny(budget_lines__0__amount=350_000_000, program__total="1,25 tỷ đồng"))
    assert v2.stage is Stage.REVISION and v2.parent == "T@1"
    store.submit(v2.ref)
    assert store.send_back(v2.ref).stage is Stage.REVISION  # back to Điều chỉnh, not Dự thảo
    store.submit(v2.ref)
    store.approve(v2.ref)
    assert store.version("T@approved").ref == "T@2"
    assert store.version("T@1").stage is Stage.APPROVED  # the earlier approval stands as recorded


def test_approved_version_cannot_change_through_the_api(store):
    v = store.save(tiny())
    store.submit(v.ref)
    store.approve(v.ref)
    for change in (store.submit, store.approve, store.send_back):
        with pytest.raises(ImmutableVersion) as err:
            change(v.ref)
        assert v.ref in err.value.message("vi")
    edited = store.save(tiny(program__name="Tên mới"))
    assert edited.ref == "T@2" and edited.stage is Stage.REVISION
    assert store.version(v.ref).content_hash == v.content_hash and store.plan(v.ref) == tiny()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE budgetlib_versions SET document = '{}' WHERE number = 1",
        "UPDATE budgetlib_versions SET stage = 'draft' WHERE number = 1",
        "UPDATE budgetlib_versions SET note = 'sửa lặng lẽ' WHERE number = 2",
        "UPDATE budgetlib_versions SET content_hash = 'x' WHERE number = 2",
        "DELETE FROM budgetlib_versions WHERE number = 2",
        "UPDATE budgetlib_approvals SET content_hash = 'x'",
        "DELETE FROM budgetlib_approvals",
        "UPDATE budgetlib_events SET actor = 'ai đó'",
        "DELETE FROM budgetlib_events",
    ],
)
def test_database_refuses_changes_to_stored_records(store, statement):
    v1 = store.save(tiny())
    store.submit(v1.ref)
    store.approve(v1.ref)
    store.save(tiny(program__name="Tên mới"))
    with pytest.raises(sa.exc.DBAPIError) as err, store.db.engine.begin() as conn:
        conn.execute(sa.text(statement))
    assert "budgetlib_immutable" in str(err.value)


def test_the_write_path_reports_a_trigger_refusal_as_immutable(store):
    v = store.save(tiny())
    store.submit(v.ref)
    store.approve(v.ref)

    def sneak(conn):
        conn.execute(sa.text("UPDATE budgetlib_versions SET stage = 'draft'"))

    with pytest.raises(ImmutableVersion):
        store.db.write(sneak, ref=v.ref)


def test_draft_stage_may_move_but_not_its_content(store):
    store.save(tiny())
    with store.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE budgetlib_versions SET stage = 'submitted' WHERE number = 1"))
    assert store.version("T@1").stage is Stage.SUBMITTED


def test_version_refs():
    assert VersionRef.parse("HP@3") == VersionRef("HP", 3, "number")
    assert VersionRef.parse("a@b@2") == VersionRef("a@b", 2, "number")
    assert VersionRef.parse("HP") == VersionRef("HP", None, "latest")
    assert str(VersionRef.parse("HP@approved")) == "HP@approved"
    for bad in ("", "  ", "@3", "HP@0"):
        with pytest.raises(BadVersionRef):
            VersionRef.parse(bad)


def test_unknown_version(store):
    with pytest.raises(UnknownVersion) as err:
        store.version("KHONG@1")
    assert "KHONG@1" in err.value.message("en")


# -- tampering ---------------------------------------------------------------------------------------


def disable_guards(store):
    """What someone editing the database by hand would do first: switch the triggers off."""
    with store.db.engine.begin() as conn:
        if store.address.is_sqlite:
            for (name,) in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
                conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
        else:
            for table in ("budgetlib_versions", "budgetlib_approvals", "budgetlib_runs", "budgetlib_actuals", "budgetlib_events"):
                conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))


def tamper_document(store, number, *, fix_hash=False):
    row_doc = json.loads(store.document(f"T@{number}", verify=False))
    row_doc["budget_lines"][0]["amount"] += 1_000_000_000
    forged = json.dumps(row_doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with store.db.engine.begin() as conn:
        values = {"d": forged, "n": number, "h": sha256_text(forged)}
        sql = "UPDATE budgetlib_versions SET document = :d" + (", content_hash = :h" if fix_hash else "") + " WHERE number = :n"
        conn.execute(sa.text(sql), values)


def test_tampered_version_is_refused_when_read(store):
    v = store.save(tiny())
    disable_guards(store)
    tamper_document(store, 1)
    with pytest.raises(TamperedRecord) as err:
        store.plan(v.ref)
    assert "T@1" in err.value.message("vi") and "không khớp mã kiểm tra" in err.value.message("vi")
    assert "does not match its stored hash" in err.value.message("en")


def test_tampered_approved_version_with_a_recomputed_hash_is_still_caught(store):
    v = store.save(tiny())
    store.submit(v.ref)
    store.approve(v.ref)
    disable_guards(store)
    tamper_document(store, 1, fix_hash=True)
    with pytest.raises(TamperedRecord) as err:
        store.plan(v.ref)
    assert "phê duyệt" in err.value.message("vi")


# -- runs, actuals, history ---------------------------------------------------------------------------


def test_recorded_run_keeps_inputs_outputs_and_their_hashes(store):
    plan = tiny()
    v = store.save(plan)
    allocation = allocate(plan)
    run = store.record_run(v.ref, allocation, policy=plan.allocation or allocation_policy_default(), years=None)
    assert run.input_sha256 == v.content_hash
    assert run.output_sha256 == sha256_text(allocation.to_json())
    assert run.total == allocation.total and run.status == "optimal" and run.user == "Nguyễn Thị Lan"
    assert run.solver == allocation.solver and run.budgetlib_version and run.machine and run.python_version
    assert store.run_output(run.id) == json.loads(allocation.to_json())
    assert store.latest_run(v.ref) == run and store.latest_run(v.ref, policy_kind="max_min") is None
    assert store.runs(v.ref) == [run]


def allocation_policy_default():
    from budgetlib.model.policy import AllocationPolicy

    return AllocationPolicy()


def test_run_against_another_plan_is_a_programmer_error(store):
    store.save(tiny())
    other = tiny(program__code="KHAC")
    with pytest.raises(ValueError):
        store.record_run("T@1", allocate(other), policy=allocation_policy_default())


def test_actuals_are_kept_with_their_hash_and_never_overwritten(store):
    store.save(tiny())
    doc = {"year": 2021, "lines": [{"unit": "001", "task": "TT", "amount": 120_000_000}], "ghi_chú": "Quý IV"}
    first = store.save_actuals("T", doc, year=2021, version="T@1", source_name="thuc_hien_2021.xlsx")
    changed = copy.deepcopy(doc)
    changed["lines"][0]["amount"] = 125_000_000
    second = store.save_actuals("T", changed, year=2021)
    assert first.content_hash == sha256_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    assert first.version == "T@1" and second.version is None
    assert store.latest_actuals("T", 2021) == second and store.latest_actuals("T", 2022) is None
    assert [a.document for a in store.actuals("T")] == [doc, changed]
    with pytest.raises(UnknownVersion):
        store.save_actuals("KHONG", doc)


def test_history_lists_every_event_in_order_in_both_languages(store):
    plan = tiny()
    v = store.save(plan, note="bản đầu")
    store.submit(v.ref)
    store.approve(v.ref, decision="QĐ 12/QĐ-UBND")
    store.record_run(v.ref, allocate(plan), policy=allocation_policy_default())
    store.save_actuals("T", {"x": 1}, year=2021)
    events = store.history("T")
    assert [e.kind for e in events] == [EventKind.SAVED, EventKind.STAGE, EventKind.STAGE, EventKind.APPROVED, EventKind.RUN, EventKind.ACTUALS]
    assert [e.at for e in events] == sorted(e.at for e in events)
    vi = [e.summary.render("vi") for e in events]
    en = [e.summary.render("en") for e in events]
    assert "Dự thảo → Trình" in vi[1] and "Draft → Submitted" in en[1]
    assert "QĐ 12/QĐ-UBND" in vi[3] and "1.200.000.000 đ" in vi[4] and "1,200,000,000 VND" in en[4]
    assert store.history("T@1") == events
    with pytest.raises(UnknownVersion):
        store.history("KHONG")


def test_verify_finds_nothing_in_an_untouched_store(store):
    plan = tiny()
    v = store.save(plan)
    store.submit(v.ref)
    store.approve(v.ref)
    store.record_run(v.ref, allocate(plan), policy=allocation_policy_default())
    store.save_actuals("T", {"x": 1})
    assert store.verify() == [] and store.verify("T") == []


def test_verify_reports_every_altered_record_located_and_translated(store):
    plan = tiny()
    v1 = store.save(plan)
    store.submit(v1.ref)
    store.approve(v1.ref)
    store.save(tiny(program__name="Tên mới"))
    run = store.record_run(v1.ref, allocate(plan), policy=allocation_policy_default())
    store.save_actuals("T", {"x": 1}, year=2021)
    disable_guards(store)
    tamper_document(store, 1, fix_hash=True)  # approved: hash recomputed, the approval still remembers
    tamper_document(store, 2)  # a draft: document edited, hash left
    import zlib

    with store.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE budgetlib_runs SET output = :o"), {"o": zlib.compress(b'{"total": 1}')})
        conn.execute(sa.text("UPDATE budgetlib_actuals SET document = :d"), {"d": '{"x":2}'})
    problems = store.verify()
    by_code = {p.code: p for p in problems}
    assert set(by_code) == {"store.tampered.approval", "store.tampered.version", "store.tampered.run_output", "store.tampered.run_input", "store.tampered.actuals"}
    assert by_code["store.tampered.approval"].location == "approvals[T@1].content_hash"
    assert by_code["store.tampered.version"].location == "versions[T@2].document"
    assert by_code["store.tampered.run_output"].location == f"runs[{run.id}].output"
    assert all(p.source.file == store.display for p in problems)
    for p in problems:
        assert p.message("vi") != p.message("en") and "store.tampered" not in p.message("vi")
    with pytest.raises(TamperedRecord):
        store.run_output(run.id)
    with pytest.raises(TamperedRecord):
        store.actuals("T")


def test_the_same_plan_hashes_the_same_from_its_workbook_and_its_json():
    from budgetlib.io.jsonio import load_plan
    from budgetlib.io.workbook import read_workbook

    folder = haiphong_folder()
    assert plan_hash(load_plan(folder / "plan.json")) == plan_hash(read_workbook(folder / "plan.xlsx"))


def haiphong_folder():
    from .conftest import EXAMPLES

    return EXAMPLES / "haiphong_2011_2015"


def test_unreachable_server_is_a_clear_error():
    from budgetlib.store import StoreUnavailable

    from .store_server import _free_port

    with pytest.raises(StoreUnavailable) as err:
        Store.open(f"postgresql://postgres:bí-mật@127.0.0.1:{_free_port()}/kho")
    assert "không mở được kho" in err.value.message("vi") and "bí-mật" not in err.value.message("vi")


@pytest.mark.parametrize(
    "module",
    ["budgetlib.store", "budgetlib.store.canonical", "budgetlib.store.records", "budgetlib.store.engine", "budgetlib.store.store", "budgetlib.pipeline.store"],
)
def test_doctests_of_the_store(module, monkeypatch):
    import doctest
    import importlib

    from .conftest import ROOT

    monkeypatch.chdir(ROOT)  # the examples are quoted by their path in the repository
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0, module
