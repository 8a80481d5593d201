"""The FiscalData debt tables' fields, in the order the API sends them, and how each is typed on load.

Every value arrives as a JSON string. Debt to the Penny amounts are dollars with cents; MSPD amounts are $ millions
with up to 10 decimals (hence the wider decimal). Month and day are zero-padded text ("01") that load as integers.
"""

from __future__ import annotations

from ingestion.common.records import DATE, DECIMAL, DECIMAL_WIDE, INT, TEXT

_CALENDAR = {
    "src_line_nbr": INT,
    "record_fiscal_year": INT,
    "record_fiscal_quarter": INT,
    "record_calendar_year": INT,
    "record_calendar_quarter": INT,
    "record_calendar_month": INT,
    "record_calendar_day": INT,
}

DEBT_TO_THE_PENNY_FIELDS: dict[str, str] = {
    "record_date": DATE,
    "debt_held_public_amt": DECIMAL,
    "intragov_hold_amt": DECIMAL,
    "tot_pub_debt_out_amt": DECIMAL,
    **_CALENDAR,
}
DEBT_TO_THE_PENNY_REQUIRED = ("record_date", "tot_pub_debt_out_amt")

MSPD_TABLE_1_FIELDS: dict[str, str] = {
    "record_date": DATE,
    "security_type_desc": TEXT,
    "security_class_desc": TEXT,
    "debt_held_public_mil_amt": DECIMAL_WIDE,
    "intragov_hold_mil_amt": DECIMAL_WIDE,
    "total_mil_amt": DECIMAL_WIDE,
    **_CALENDAR,
}
MSPD_TABLE_1_REQUIRED = ("record_date", "security_type_desc", "security_class_desc")
