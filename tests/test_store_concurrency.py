"""Officers saving at the same moment: N processes (bounded) against one store lose nothing.

Each test starts its processes together (a barrier) so they really collide: on SQLite they queue
on the write lock, on PostgreSQL their serialisable transactions conflict and are retried.
"""

from __future__ import annotations

import multiprocessing as mp
import queue

import pytest

from budgetlib.planning.validation import load_plan_data
from budgetlib.store import ImmutableVersion, StageTransitionError, Store

from .conftest import tiny_plan_data

PROCESSES = 6
SAVES_EACH = 5
TIMEOUT = 240


def _plan(tag: str, code: str = "T"):
    data = tiny_plan_data()
    data["program"]["code"] = code
    data["program"]["name"] = f"Kế hoạch thử {tag}"
    return load_plan_data(data)


def _saver(url: str, index: int, barrier, results) -> None:
    try:
        barrier.wait(timeout=TIMEOUT)
        with Store.open(url, create=True, user=f"cán bộ {index}") as store:  # the first save may create the store
            out = []
            for k in range(SAVES_EACH):
                shared = store.save(_plan(f"{index}-{k}"))
                own = store.save(_plan(f"{index}-{k}", code=f"P{index}"))
                out.append((shared.ref, shared.content_hash, own.ref, own.content_hash))
        results.put((index, out, None))
    except BaseException as exc:  # report, never hang the parent
        results.put((index, None, repr(exc)))


def _approver(url: str, ref: str, index: int, barrier, results) -> None:
    try:
        with Store.open(url, user=f"lãnh đạo {index}") as store:
            barrier.wait(timeout=TIMEOUT)
            try:
                store.approve(ref, decision=f"QĐ {index}")
                results.put((index, "approved", None))
            except (ImmutableVersion, StageTransitionError) as exc:
                results.put((index, type(exc).__name__, None))
    except BaseException as exc:
        results.put((index, None, repr(exc)))


def _run(target, args_for) -> list:
    # fork: the children start in milliseconds and open their own store (the parent holds no
    # connection); each child is a separate process with its own connections and transactions.
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_for(i), barrier, results)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    got = []
    try:
        for _ in procs:
            got.append(results.get(timeout=TIMEOUT))
    except queue.Empty:  # pragma: no cover - a hung worker is a failure, not a wait forever
        pytest.fail(f"only {len(got)} of {PROCESSES} processes reported within {TIMEOUT} s")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():  # pragma: no cover
                p.terminate()
    errors = [e for _, _, e in got if e]
    assert not errors, errors
    return sorted(got)


def test_concurrent_savers_lose_no_version(store_url):
    got = _run(_saver, lambda i: (store_url, i))
    with Store.open(store_url) as store:
        shared = store.versions("T")
        assert [v.number for v in shared] == list(range(1, PROCESSES * SAVES_EACH + 1))  # no gap, no duplicate
        by_ref = {v.ref: v.content_hash for v in store.versions()}
        for index, out, _ in got:
            own = store.versions(f"P{index}")
            assert [v.number for v in own] == list(range(1, SAVES_EACH + 1))
            for shared_ref, shared_hash, own_ref, own_hash in out:
                assert by_ref[shared_ref] == shared_hash and by_ref[own_ref] == own_hash
        assert len({h for _, out, _ in got for _, h, _, _ in out}) == PROCESSES * SAVES_EACH
        assert len([e for e in store.history("T") if e.kind.value == "saved"]) == PROCESSES * SAVES_EACH
        assert store.verify() == []


def test_concurrent_approvals_approve_once(store_url):
    with Store.open(store_url, create=True) as store:
        v = store.save(_plan("duyệt"))
        store.submit(v.ref)
    got = _run(_approver, lambda i: (store_url, v.ref, i))
    outcomes = [o for _, o, _ in got]
    assert outcomes.count("approved") == 1, outcomes
    with Store.open(store_url) as store:
        approved = store.version(v.ref)
        assert approved.approval is not None
        assert len([e for e in store.history("T") if e.kind.value == "approved"]) == 1
        winner = next(i for i, o, _ in got if o == "approved")
        assert approved.approval.decision == f"QĐ {winner}"
