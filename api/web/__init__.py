"""The farmer web page: light, server-rendered HTML (Jinja2), Vietnamese first, readable on a cheap phone."""
