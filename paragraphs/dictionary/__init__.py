"""Dictionary: word counts kept in step with the corpus, definitions (providers, cache), /dictionary."""
