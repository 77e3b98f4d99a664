"""The LibreOffice side of budgetlib's Calc extension ("Ngân sách" menu and toolbar).

This package runs inside LibreOffice's own Python (the system ``python3`` with ``python3-uno`` on
Linux, the Python LibreOffice ships on Windows and macOS). It imports only the standard library
and UNO, and never budgetlib: each command snapshots the live document, hands it to the installed
budgetlib in a separate process (``python -m budgetlib.calc.bridge``, see :mod:`.bridge`) and
applies the answer to the document (:mod:`.document`). So the extension works whatever Python
version LibreOffice embeds, and budgetlib keeps its own interpreter and packages.

Modules: :mod:`.commands` (what a click does), :mod:`.bridge` (finding Python, running budgetlib),
:mod:`.document` (reading and writing the document), :mod:`.render` (drawing one sheet),
:mod:`.ui` (status bar, dialogs, opening files, UI language), :mod:`.texts` (the messages, generated
from budgetlib's catalogue at build time), :mod:`.paths` and :mod:`.runlog` (the run log).

Compatible with Python 3.7 and later (LibreOffice 7.0 on Windows embeds 3.7).
"""
