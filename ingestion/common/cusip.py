"""CUSIP check digits: used by the emulator to mint identifiers and by the raw-table quality checks."""

import re

CUSIP_PATTERN = re.compile(r"^[0-9A-Z*@#]{8}[0-9]$")


def cusip_check_digit(base: str) -> str:
    """The CUSIP check digit (modulus 10, double-add-double) of an 8-character base."""
    total = 0
    for i, ch in enumerate(base):
        if ch.isdigit():
            v = int(ch)
        elif ch.isalpha():
            v = ord(ch.upper()) - ord("A") + 10
        else:
            v = {"*": 36, "@": 37, "#": 38}[ch]
        if i % 2 == 1:
            v *= 2
        total += v // 10 + v % 10
    return str((10 - total % 10) % 10)


def is_valid_cusip(cusip: str) -> bool:
    """Nine characters whose last is the check digit of the first eight."""
    return bool(CUSIP_PATTERN.match(cusip)) and cusip_check_digit(cusip[:8]) == cusip[8]
