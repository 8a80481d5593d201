"""Quoting for the SQL the project has to build as text: ATTACH, COPY and COMMENT take no parameters."""

from __future__ import annotations


def literal(text: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'
