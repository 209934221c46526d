"""The web page for people: server-rendered HTML over the same services as the JSON API (docs/web.md)."""
