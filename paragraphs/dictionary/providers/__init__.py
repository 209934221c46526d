"""Where definitions come from: dictionaryapi.dev (HTTP) and the offline dictionary we ship."""
