"""Serving trained runs over HTTP (``rnncli serve``): JSON endpoints on the task engines of
:mod:`rnncli.serving`, dynamic batching, limits, metrics and a page to try a run. Needs the
``serve`` extra (Starlette and uvicorn); nothing else in rnncli imports this package."""
