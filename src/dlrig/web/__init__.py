"""`dlrig serve`: the same library as the CLI behind a small web app (needs the web extra).

:func:`dlrig.web.app.create_app` builds the FastAPI app; :mod:`dlrig.web.service` holds what each
endpoint does as plain functions that return the CLI's ``--json`` shapes. Import
``dlrig.web.app`` only when FastAPI is installed.
"""
