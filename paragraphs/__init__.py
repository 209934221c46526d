"""paragraphs: collect paragraphs, search them word by word, define the words the corpus uses most."""

__version__ = "0.1.0"
