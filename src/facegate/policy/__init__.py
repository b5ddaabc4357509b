"""The policy layer: pure rules that decide, and the only place a :class:`Grant` is minted.

``check()`` functions take plain data and return a :class:`Decision` with its
reasons (rule id, jurisdiction, article, message). ``require()`` returns a
:class:`Grant` or raises the typed error of the first reason. Nothing here
touches a database, a file, the engine or the clock: callers pass the facts
and the time.
"""
