"""The review desk (整改工作台): a local web app where each unit works its own cases.

- :mod:`~campus_geo.desk.app`: the Starlette application (pages, forms, files, map data);
- :mod:`~campus_geo.desk.users`: accounts (Argon2id), sessions and the login audit,
  in ``<ledger stem>_desk.sqlite`` beside the ledger;
- :mod:`~campus_geo.desk.access`: which role sees and changes what, checked on the server;
- :mod:`~campus_geo.desk.queries`: the case table and the dashboard, in SQL on the ledger;
- :mod:`~campus_geo.desk.photos`: uploads decoded and thumbnailed (Pillow);
- :mod:`~campus_geo.desk.text`: Chinese and English words.

Every change of a case goes through :mod:`campus_geo.ledger` (the same checked
transaction as the command line), with the case version the user saw.
"""

from __future__ import annotations

__all__: list[str] = []
