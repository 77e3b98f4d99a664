"""A large sheet's generated rows are compressed in the writing thread while a second thread makes
the next ones (``xlsx._write_overlapped``): the file must be the one a plain loop writes, byte for
byte, and a failure on either side must end both without leaving a thread or a file behind."""

from __future__ import annotations

import errno
import threading

import pytest

from budgetlib.io.grid import Formula, SheetSpec
from budgetlib.io.workbook import write_sheets, xlsx


def big_sheet(n: int = 3000) -> SheetSpec:
    rows: list[list] = [["Mã", "Tên", "Số", "Tỷ lệ", "Công thức"]]
    for i in range(n):
        r = len(rows) + 1
        rows.append([f"U{i % 97}", f"Xã {i} & <{i % 13}>", i * 10**7, i / 7, Formula(f"=C{r}*2")])
    spec = SheetSpec("Dữ liệu", rows)
    spec.bold_rows = {1}
    spec.row_heights = {500: 30.0}
    return spec


def plain(dst, chunks) -> None:
    """The single-threaded reference: the same chunks written one after another."""
    for chunk in chunks:
        dst.write(chunk)


@pytest.fixture
def small_blocks(monkeypatch):
    """A few thousand rows written as many chunks (a national sheet has ~30 of ~4 MB)."""
    monkeypatch.setattr(xlsx, "FAST_ROWS", 20)
    monkeypatch.setattr(xlsx, "FAST_HEAD", 10)
    monkeypatch.setattr(xlsx, "_BLOCK_ROWS", 50)


def test_overlapped_writer_gives_the_single_threaded_bytes(tmp_path, monkeypatch, small_blocks):
    chunks_written = []
    overlapped = xlsx._write_overlapped

    def counting(dst, chunks):
        chunks_written.append(0)

        def counted():
            for chunk in chunks:
                chunks_written[-1] += 1
                yield chunk

        overlapped(dst, counted())

    monkeypatch.setattr(xlsx, "_write_overlapped", counting)
    threaded = write_sheets([big_sheet()], tmp_path / "threaded.xlsx").read_bytes()
    monkeypatch.setattr(xlsx, "_write_overlapped", plain)
    reference = write_sheets([big_sheet()], tmp_path / "plain.xlsx").read_bytes()
    assert chunks_written and chunks_written[0] >= 50
    assert threaded == reference


class Boom(Exception):
    pass


def test_a_failure_while_rows_are_made_leaves_nothing_behind(tmp_path, monkeypatch, small_blocks):
    rows_xml = xlsx._Tail.rows_xml
    boom = Boom("row generator failed")

    def failing(self, strings):
        for i, chunk in enumerate(rows_xml(self, strings)):
            if i == 5:
                raise boom
            yield chunk

    monkeypatch.setattr(xlsx._Tail, "rows_xml", failing)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"the user's earlier file")
    before = sorted(tmp_path.iterdir())
    threads = threading.active_count()
    with pytest.raises(Boom) as raised:
        write_sheets([big_sheet()], out)
    assert raised.value is boom
    assert threading.active_count() == threads
    assert out.read_bytes() == b"the user's earlier file"
    assert sorted(tmp_path.iterdir()) == before


def test_a_failing_write_stops_the_producer(monkeypatch):
    """Disk full while chunk 3 is written: the error is raised, the producer stops making rows
    (it does not run to the end of the sheet) and its thread is gone."""
    made = []

    def chunks():
        for i in range(1000):
            made.append(i)
            yield b"x" * 10_000

    class FullDisk:
        writes = 0

        def write(self, data):
            self.writes += 1
            if self.writes == 3:
                raise OSError(errno.ENOSPC, "No space left on device")

    threads = threading.active_count()
    with pytest.raises(OSError) as raised:
        xlsx._write_overlapped(FullDisk(), chunks())
    assert raised.value.errno == errno.ENOSPC
    assert threading.active_count() == threads
    assert len(made) <= 3 + xlsx._OVERLAP_QUEUE + 1  # written, queued, and the one being made
