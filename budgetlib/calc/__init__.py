"""The LibreOffice Calc front end: the "Ngân sách" menu and toolbar, as an extension (``budgetlib.oxt``).

Design (details and reasons in ``libreoffice/README.md``): the extension's own code runs inside
LibreOffice's Python and imports nothing but UNO and the standard library; for each command it
snapshots the live document (cell values as Calc computed them, unsaved edits included), starts
``python -m budgetlib.calc.bridge`` with the Python that has budgetlib, and applies the answer to the
open document — result sheets replaced as a whole, all or nothing, in one undo step. The document
is never saved, closed or reloaded, so the officer's unsaved edits are never lost, and LibreOffice's
embedded Python (3.7–3.11 depending on version and OS) never has to match budgetlib's.

This package is the budgetlib side:

* :mod:`.buttons` — the commands (the Excel ribbon's ids), where each one runs;
* :mod:`.protocol` — the JSON request/reply and the snapshot as a :class:`~budgetlib.io.grid.GridBook`;
* :mod:`.dispatch` — what each command does, through :mod:`budgetlib.pipeline` (the CLI's path);
* :mod:`.bridge` — the process the extension starts;
* :mod:`.build`, :mod:`.install`, :mod:`.doctor` — ``budgetlib lo build|install|doctor``;
* :mod:`.paths`, :mod:`.guide` — the run log and settings file; the officers' guide as HTML.

The LibreOffice side lives in ``libreoffice/`` (packed copies in ``budgetlib/calc/resources/``).
"""

from .buttons import COMMAND_IDS, COMMANDS, Command, command_url
from .dispatch import handle
from .protocol import PROTOCOL_VERSION, Reply, SnapshotBook, book_from_request

__all__ = ["COMMANDS", "COMMAND_IDS", "Command", "command_url", "handle", "PROTOCOL_VERSION", "Reply", "SnapshotBook", "book_from_request"]
