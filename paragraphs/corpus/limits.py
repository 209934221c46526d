"""Limits of a paragraph, shared by the API's validation and the bulk intake (which imports no more
than it needs: it runs in child processes, paragraphs/corpus/preparers.py)."""

MAX_CONTENT_CHARS = 100_000
