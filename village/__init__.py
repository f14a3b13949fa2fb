"""The `village` command and the local stack launcher: the only package that knows every service."""
