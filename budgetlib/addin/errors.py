"""What can go wrong with the calling workbook, as data the dispatcher turns into a message.

* :class:`BookError` — the workbook cannot be read or cannot take results (missing, not an
  ``.xlsx``, locked, read-only, structure protected, a CSV file …): a catalogue code and the file
  it is about, shown in the user's language. Raised before anything is written.
* :class:`WriteFailed` — writing started and failed; its :class:`WriteReport` says exactly what is in
  the workbook now (which sheets were written or removed, whether everything was rolled back, which
  temporary sheets could not be removed), so the message never claims more than is true.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.i18n import LocalizedError

__all__ = ["BookError", "WriteReport", "WriteFailed"]


class BookError(LocalizedError):
    """A problem with the workbook itself (``addin.book.*`` codes); ``params`` name the file."""


@dataclass
class WriteReport:
    """The state of the workbook after a write, good or bad.

    ``written`` and ``removed`` are sheet names as they are now in the workbook (``removed``: gone);
    ``renamed`` maps a result sheet's usual name to the name it got because a sheet of the user's
    already has the usual one; ``rolled_back`` is True when a failed write left the workbook exactly
    as it was (checked, not assumed); ``leftovers`` are temporary sheets a failed rollback could not
    remove.
    """

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    rolled_back: bool = False
    leftovers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # cosmetic steps that failed (logged)


class WriteFailed(Exception):
    """Writing the result sheets failed; ``report`` is what the workbook holds now."""

    def __init__(self, cause: BaseException, report: WriteReport):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause
        self.report = report
