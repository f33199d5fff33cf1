"""`dlrig serve`: the application layer behind a small web app (needs the web extra).

:func:`dlrig.web.app.create_app` builds the FastAPI app (errors, templates); :mod:`dlrig.web.api`
holds the JSON API routes and :mod:`dlrig.web.pages` the HTML pages, each a thin door onto the
command's request model and ``run`` in :mod:`dlrig.app`. Import them only when FastAPI is
installed.
"""
