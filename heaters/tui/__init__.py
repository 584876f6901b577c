"""The operator console (``heaters tui``): pipeline, videos, cut editor and audit log, built on Textual.

Screens read and write only through ``heaters.services``, so every edit made here is validated, MECE-checked
and audited exactly like one made in the browser or the CLI.
"""
