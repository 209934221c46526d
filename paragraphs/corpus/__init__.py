"""The corpus: paragraph sources, the paragraph store, /fetch and /paragraphs."""
