"""A replay of the public APIs from the real payloads in ../shared/reference-data, served on a loopback port.

Each endpoint answers the way the public one does, from recorded data (test code, not the emulator's synthetic
history; the emulator's FiscalData and SoQL query engines are reused to filter, sort and page):

- FiscalData `auctions_query`: the recorded January 2026 bills response (25 rows, every value a string, "null"
  for missing), filtered, sorted and paged with `meta`/`links`. CONSTRUCTED from a real record: the 30-year bond
  auctioned 2023-11-09 from the TreasuryDirect `TA_WS` excerpt, converted to FiscalData's field names (values
  unchanged; dates cut to YYYY-MM-DD; `record_date` is its `updatedTimestamp` day; fields TA_WS does not send
  are "null"). There is no recorded FiscalData coupon auction.
- FiscalData `upcoming_auctions`: the recorded response (90 rows, stale rows included), filtered and paged.
- The par yield curve CSV per year: 2023 is the recorded Jan-Sep 2023 file, byte for byte. Years 1990-2022 are
  the rows of that year in the recorded all-years excerpt (133 rows in all), with its header, newest first and
  no final newline, as the per-year files are served. Any other year is the header alone (no rows yet).
- Socrata `gpe5-46if`: the rows of the three recorded FinFutYY.txt files (2021 Q4 Treasury rows, 2024 H1 every
  contract, 2026 Q1 Treasury rows) as Socrata sends them: Socrata field names (columns 8-81 by position), every
  value a string, `.` left out, the report date as a floating timestamp, `id` = YYMMDD + code + F. The
  Socrata-only names (commodity, commodity_subgroup_name, ...) have no column in the text files and are absent.
- TIC: `mfhhis01.txt` is the recorded history file, byte for byte. CONSTRUCTED: `slt_table5.txt` (no recorded
  copy exists) is written in the current table's layout from the 2025 block of that history file, so its
  values are the published ones.
- NY Fed primary dealers `get/{keyid}.json`: PDPOSMBSFGS-C is the recorded raw body, byte for byte. The 16
  Treasury keyids are npthan's excerpts (2021-12 .. 2022-02; re-serialised by that project, values as
  published), sent as one-line JSON; PDPOSGS-B and PDPOSGSC-G3L6 also carry npthan's April-May 2013 excerpt (the
  union of two recorded windows of one history). `get/SBP2013/timeseries/{keyid}.json`: npthan's SBP2013
  excerpts. Any other keyid answers 200 with no observations, as the API does.
- NY Fed reference rates `rates/{secured|unsecured}/{type}/search.json`: the union, per rate type, of the
  recorded searches (SOFR and OBFR 2024-06, EFFR 2023 H1) and the two recorded `all/latest` snapshots, filtered
  to the dates asked and newest first; a search covering every recorded row of a file that holds them all gets
  that file byte for byte. `rp/all/all/results/search.json`: the recorded last-500 operations (467 kept), byte
  for byte when the window holds them all, else filtered and re-written in the same spacing.
- FRED `fredgraph.csv?id=`: DGS10 (`DATE` header, `.` missing), DGS5 (`observation_date`, empty missing) and WALCL
  byte for byte; cosd/coed cut the rows. CONSTRUCTED stand-in: no recorded WMTSECL1 exists, so `id=WMTSECL1` gets
  the WALCL file with its header renamed (the reference README's stand-in: the same weekly Wednesday H.4.1
  layout, values are WALCL's). IORB has no recording: the replay build is configured without it.
- NY Fed SOMA: `asofdates/list.json` is the recorded list (1,094 dates, newest first, to 2024-06-18), byte for byte;
  `agency/get/agency%20debts/asof/2019-01-02.json` the recorded agency holdings, byte for byte. CONSTRUCTED: no
  recording of the Treasury holdings (`tsy/get/all/asof/{date}.json`) exists, so each date answers with no holdings
  (`{"soma": {"holdings": []}}`, the body's shape): the replay build loads the real dates and an empty holdings table.
- FiscalData `debt_to_penny` (v2): the recorded 61 rows, and one CONSTRUCTED day (`DEBT_MISPRINT_DAY`): the
  recorded 2025-03-31 row's layout with the figures FiscalData's cache holds for 2025-08-04, where held by the public
  + intragovernmental exceed the total by exactly $10,000,000,000.00 (a publication artefact the build must
  publish through, warning with the day named). `mspd_table_1` (v1): CONSTRUCTED from the website
  download (4,617 rows, labels as header): field names for labels, values unchanged, the calendar fields derived
  from record_date and src_line_nbr the row's place in its month; checked against the recorded one-row API page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from urllib.parse import parse_qsl

import pyarrow as pa

from emulator import fiscaldata, socrata
from emulator import funding_rates as funding
from emulator.fed_custody import BASE_PATH as FRED_ROOT
from emulator.fed_soma import BASE_PATH as SOMA_ROOT
from emulator.funding_rates import BASE_PATH as NYFED_ROOT
from emulator.par_yield_curve import YIELD_CSV_PREFIX
from emulator.primary_dealers import BASE_PATH as PD_ROOT
from emulator.server import base_urls, serve
from emulator.socrata import RESOURCE as SOCRATA_RESOURCE
from emulator.tic_holdings import BASE_PATH as TIC_ROOT
from emulator.tic_holdings import current_table_head
from emulator.treasury_auctions import AUCTIONS_PATH, UPCOMING_PATH
from emulator.treasury_debt import DEBT_TO_THE_PENNY_PATH, MSPD_TABLE_1_PATH
from ingestion.cftc_tff.fields import CHANGES, CONCENTRATION, DATASET_ID, PCT_OF_OI, POSITIONS, TRADERS
from ingestion.common.records import TEXT
from ingestion.tic_holdings.parser import parse_history
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS, UPCOMING_AUCTIONS_FIELDS
from ingestion.treasury_debt.fields import DEBT_TO_THE_PENNY_FIELDS, MSPD_TABLE_1_FIELDS

# The public APIs' paths, as the emulator serves them.
SOCRATA = f"{SOCRATA_RESOURCE}{DATASET_ID}.json"

FINFUT_FILES = (
    "cftc_cot/FinFutYY_2021-10_to_12_treasury_rows_old_names.txt",
    "cftc_cot/FinFutYY_2024-01_to_06_all_contracts.txt",
    "cftc_cot/FinFutYY_2026-01_to_03_treasury_rows.txt",
)
# TreasuryDirect TA_WS names -> FiscalData auctions_query names, for the fields both APIs publish.
TREASURYDIRECT_TO_FISCALDATA = {
    "cusip": "cusip",
    "securityType": "security_type",
    "securityTerm": "security_term",
    "auctionDate": "auction_date",
    "issueDate": "issue_date",
    "maturityDate": "maturity_date",
    "pricePer100": "price_per100",
    "announcementDate": "announcemt_date",
    "auctionFormat": "auction_format",
    "averageMedianYield": "avg_med_yield",
    "bidToCoverRatio": "bid_to_cover_ratio",
    "cashManagementBillCMB": "cash_management_bill_cmb",
    "competitiveAccepted": "comp_accepted",
    "competitiveTendered": "comp_tendered",
    "directBidderAccepted": "direct_bidder_accepted",
    "directBidderTendered": "direct_bidder_tendered",
    "fimaNoncompetitiveAccepted": "fima_noncomp_accepted",
    "fimaNoncompetitiveTendered": "fima_noncomp_tendered",
    "floatingRate": "floating_rate",
    "highPrice": "high_price",
    "highYield": "high_yield",
    "indirectBidderAccepted": "indirect_bidder_accepted",
    "indirectBidderTendered": "indirect_bidder_tendered",
    "interestRate": "int_rate",
    "lowYield": "low_yield",
    "noncompetitiveAccepted": "noncomp_accepted",
    "offeringAmount": "offering_amt",
    "originalSecurityTerm": "original_security_term",
    "primaryDealerAccepted": "primary_dealer_accepted",
    "primaryDealerTendered": "primary_dealer_tendered",
    "reopening": "reopening",
    "series": "series",
    "somaAccepted": "soma_accepted",
    "somaHoldings": "fed_soma",
    "somaIncluded": "soma_included",
    "somaTendered": "soma_tendered",
    "totalAccepted": "total_accepted",
    "totalTendered": "total_tendered",
    "tips": "inflation_index_security",
}
CONVERTED_CUSIP = "912810TV0"  # the 30-year bond of 2023-11-09, from TreasuryDirect

PD_RAW = "nyfed_primary_dealer/pd_get_PDPOSMBSFGS-C_raw_2024-07-08.json"
PD_SAMPLE = "nyfed_primary_dealer/npthan_dealer_stats_sample_series_2021-12_to_2022-02.json"
PD_EXTENSION = "nyfed_primary_dealer/npthan_dealer_stats_historical_extension_SBP2013_2013-02_to_2013-05.json"
RATE_FILES = (
    "nyfed_reference_rates/rates_secured_sofr_search_2024-06-01_2024-06-06.json",
    "nyfed_reference_rates/rates_unsecured_obfr_search_2024-06-01_2024-06-06.json",
    "nyfed_reference_rates/rates_unsecured_effr_search_2023-01-01_2023-06-06.json",
    "nyfed_reference_rates/rates_all_latest_2023-04-17.json",
    "nyfed_reference_rates/rates_all_latest_2023-04-10_good_friday.json",
)
RP_FILE = "nyfed_reference_rates/rp_all_all_results_last_500_2023-04-21_trimmed.json"
SOMA_DATES = "nyfed_soma/soma_asofdates_list_openbb_1bd76a9.json"
SOMA_AGENCY = "nyfed_soma/soma_agency_get_agency-debts_asof_2019-01-02_openbb_1bd76a9.json"
FRED_FILES = {
    "DGS10": "fred_graph_csv/DGS10_DATE_header_1962-01-02_to_2024-08-07.csv",
    "DGS5": "fred_graph_csv/DGS5_observation_date_header_2019-12-26_to_2024-12-26.csv",
    "WALCL": "fred_graph_csv/WALCL_observation_date_header_2002-12-18_to_2024-12-25.csv",
}
DEBT_FILE = "fiscaldata_debt/debt_to_penny_v2_2025-01-02_to_2025-03-31.json"
# CONSTRUCTED (see the module docstring): 2025-08-04 as FiscalData's cache holds it, in the recorded rows' layout.
DEBT_MISPRINT_DAY = {
    "record_date": "2025-08-04",
    "debt_held_public_amt": "29523300148538.85",
    "intragov_hold_amt": "7314864649375.46",
    "tot_pub_debt_out_amt": "36828164797914.31",
    "src_line_nbr": "1",
    "record_fiscal_year": "2025",
    "record_fiscal_quarter": "4",
    "record_calendar_year": "2025",
    "record_calendar_quarter": "3",
    "record_calendar_month": "08",
    "record_calendar_day": "04",
}
MSPD_CSV = "fiscaldata_debt/MSPD_SumSecty_20010131_20260531_website_download.csv"
MSPD_LABELS = {
    "Record Date": "record_date",
    "Security Type Description": "security_type_desc",
    "Security Class Description": "security_class_desc",
    "Debt Held by the Public (in Millions)": "debt_held_public_mil_amt",
    "Intragovernmental Holdings (in Millions)": "intragov_hold_mil_amt",
    "Total Public Debt Outstanding (in Millions)": "total_mil_amt",
}


def _text_columns(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


@dataclass
class Replay:
    """A WSGI app over the recorded payloads (see the module docstring); `requests` logs what was asked."""

    root: Path
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    # --- the recorded data ----------------------------------------------------------------------------
    @cached_property
    def bills(self) -> dict:
        return json.loads((self.root / "treasury_auctions/fiscaldata_auctions_query_bills_2026-01.json").read_text())

    @cached_property
    def converted_bond(self) -> dict[str, str]:
        """The TreasuryDirect 30-year bond record in FiscalData's layout (CONSTRUCTED, see the module docstring)."""
        records = json.loads(
            (self.root / "treasury_auctions/treasurydirect_securities_search_2023-11_excerpt.json").read_text()
        )
        [bond] = [r for r in records if r["cusip"] == CONVERTED_CUSIP]
        record = dict.fromkeys(self.bills["data"][0], "null")
        for td_name, fd_name in TREASURYDIRECT_TO_FISCALDATA.items():
            value = bond.get(td_name, "")
            record[fd_name] = "null" if value == "" else value.removesuffix("T00:00:00")
        record["record_date"] = bond["updatedTimestamp"][:10]
        return record

    @cached_property
    def auction_records(self) -> list[dict[str, str]]:
        return [*self.bills["data"], self.converted_bond]

    @cached_property
    def auction_spec(self) -> dict[str, str]:
        return {name: AUCTIONS_QUERY_FIELDS.get(name, TEXT) for name in self.bills["data"][0]}

    @cached_property
    def upcoming(self) -> list[dict[str, str]]:
        return json.loads((self.root / "treasury_auctions/fiscaldata_upcoming_auctions.json").read_text())["data"]

    @cached_property
    def curve_2023(self) -> bytes:
        return (self.root / "yield_curve/daily_treasury_par_yield_2023_jan-sep.csv").read_bytes()

    @cached_property
    def curve_by_year(self) -> tuple[str, dict[int, list[str]]]:
        """(header, {year: rows newest first}) of the recorded all-years excerpt."""
        lines = (
            (self.root / "yield_curve/daily_treasury_par_yield_all_years_1990-2022-03_excerpt.csv")
            .read_text()
            .splitlines()
        )
        by_year: dict[int, list[str]] = {}
        for line in lines[1:]:
            by_year.setdefault(int(line[6:10]), []).append(line)
        return lines[0], by_year

    def curve_csv(self, year: int) -> bytes:
        if year == 2023:
            return self.curve_2023
        header, by_year = self.curve_by_year
        rows = by_year.get(year, [])
        if not rows:
            header = self.curve_2023.decode().splitlines()[0]  # a year with no rows yet: today's columns
        return "\n".join([header, *rows]).encode()

    @cached_property
    def tff_records(self) -> list[dict[str, str]]:
        """Every row of the recorded FinFutYY files, as Socrata's gpe5-46if sends it."""
        numeric = POSITIONS + CHANGES + PCT_OF_OI + TRADERS + CONCENTRATION
        out = []
        for name in FINFUT_FILES:
            header, *rows = _text_columns(self.root / name)
            index = {h: i for i, h in enumerate(header)}
            for row in rows:
                cells = [c.strip() for c in row]
                day = cells[index["Report_Date_as_YYYY-MM-DD"]]
                code = cells[index["CFTC_Contract_Market_Code"]]
                record = {
                    "id": f"{day[2:4]}{day[5:7]}{day[8:10]}{code}F",
                    "market_and_exchange_names": row[index["Market_and_Exchange_Names"]],
                    "report_date_as_yyyy_mm_dd": f"{day}T00:00:00.000",
                    "cftc_contract_market_code": code,
                    # Socrata keeps the codes' fixed-width padding ("CME ").
                    "cftc_market_code": row[index["CFTC_Market_Code"]],
                    "cftc_region_code": row[index["CFTC_Region_Code"]],
                    "cftc_commodity_code": row[index["CFTC_Commodity_Code"]],
                    # Columns 8 to 81 are the same fields, in the same order, as Socrata's.
                    **dict(zip(numeric, cells[7 : 7 + len(numeric)])),
                    "contract_units": row[index["Contract_Units"]],
                    "cftc_subgroup_code": cells[index["CFTC_SubGroup_Code"]],
                    "futonly_or_combined": cells[index["FutOnly_or_Combined"]],
                }
                out.append({k: v for k, v in record.items() if v not in (".", "")})
        return out

    @cached_property
    def tff_table(self) -> pa.Table:
        names = list(dict.fromkeys(k for r in self.tff_records for k in r))
        return pa.table({n: pa.array([r.get(n) for r in self.tff_records], pa.string()) for n in names})

    @cached_property
    def tic_history(self) -> bytes:
        return (self.root / "tic_mfh/mfhhis01.txt").read_bytes()

    @cached_property
    def tic_current(self) -> bytes:
        """slt_table5.txt in the current table's layout, from the history file's latest year (CONSTRUCTED)."""
        parsed = parse_history(self.tic_history.decode(), source="replay", where="mfhhis01.txt")
        latest_year = max(h.month_end.year for h in parsed.holdings)
        months = sorted({h.month_end for h in parsed.holdings if h.month_end.year == latest_year}, reverse=True)
        lines: dict[str, dict] = {}
        for h in parsed.holdings:
            if h.month_end.year == latest_year and not h.is_comparison_series:
                label = {
                    "foreign_official": "Of Which: Foreign Official",
                    "foreign_official_bills": "Of Which: Foreign Official Treasury Bills",
                    "foreign_official_bonds_notes": "Of Which: Foreign Official T-Bonds & Notes",
                }.get(h.row_type, h.country)
                lines.setdefault(label, {})[h.month_end] = h.value_flag or str(h.holdings_bn)
        out = current_table_head(months)
        out += [f"{label}\t" + "\t".join(values[m] for m in months) for label, values in lines.items()]
        out += ["", "Notes:", "Constructed for the replay from mfhhis01.txt (no recorded slt_table5.txt exists)."]
        return "\n".join(out).encode()

    # --- NY Fed, FRED, federal debt -------------------------------------------------------------------
    @cached_property
    def dealer_bodies(self) -> dict[tuple[str, str], list[dict]]:
        """(series break, keyid) -> recorded records, oldest first."""
        out: dict[tuple[str, str], list[dict]] = {}
        for name in (PD_SAMPLE, PD_EXTENSION):
            for series in json.loads((self.root / name).read_text())["series"]:
                key = (series.get("period") or "current", series["keyid"])
                out.setdefault(key, []).extend(series["body"]["pd"]["timeseries"])
        return {k: sorted(v, key=lambda r: r["asofdate"]) for k, v in out.items()}

    def primary_dealers(self, rest: str) -> bytes:
        parts = rest.removesuffix(".json").split("/")
        if parts == ["get", "PDPOSMBSFGS-C"]:
            return (self.root / PD_RAW).read_bytes()
        key = (parts[1], parts[3]) if len(parts) == 4 else ("current", parts[1])
        records = self.dealer_bodies.get(key, [])
        return json.dumps({"pd": {"timeseries": records}}, separators=(", ", ": ")).encode()

    @cached_property
    def rate_records(self) -> dict[str, list[dict]]:
        """Rate type -> the recorded records (one per date; the files agree where they overlap), newest first."""
        by_key: dict[tuple[str, str], dict] = {}
        for name in RATE_FILES:
            for record in json.loads((self.root / name).read_bytes(), parse_float=Decimal)["refRates"]:
                key = (record["type"], record["effectiveDate"])
                if key in by_key and by_key[key] != record:
                    raise ValueError(f"recorded files disagree on {key}")
                by_key[key] = record
        out: dict[str, list[dict]] = {}
        for (rate_type, _), record in sorted(by_key.items(), key=lambda kv: kv[0][1], reverse=True):
            out.setdefault(rate_type, []).append(record)
        return out

    def reference_rates(self, rate_type: str, start: str | None, end: str | None) -> bytes:
        records = funding.search(self.rate_records.get(rate_type, []), "effectiveDate", start, end)
        for name in RATE_FILES[:3]:  # a search file answers byte for byte when the window holds all its rows
            recorded = json.loads((self.root / name).read_bytes(), parse_float=Decimal)["refRates"]
            if recorded == records:
                return (self.root / name).read_bytes()
        return funding.render_rates(records)

    def repo_operations(self, start: str | None, end: str | None) -> bytes:
        raw = (self.root / RP_FILE).read_bytes()
        operations = json.loads(raw, parse_float=Decimal)["repo"]["operations"]
        chosen = funding.search(operations, "operationDate", start, end)
        return raw if len(chosen) == len(operations) else funding.render_operations(chosen)

    def fred(self, ids: str, start: str | None, end: str | None) -> bytes:
        if ids == "WMTSECL1":  # CONSTRUCTED stand-in (see the module docstring)
            text = (
                (self.root / FRED_FILES["WALCL"])
                .read_text()
                .replace("observation_date,WALCL", "observation_date,WMTSECL1", 1)
            )
        elif ids in FRED_FILES:
            text = (self.root / FRED_FILES[ids]).read_text()
        else:
            raise KeyError(ids)
        header, *rows = text.splitlines()
        kept = [r for r in rows if (not start or r[:10] >= start) and (not end or r[:10] <= end)]
        if len(kept) == len(rows):
            return text.encode()
        return ("\n".join([header, *kept]) + "\n").encode()

    @cached_property
    def debt_to_the_penny(self) -> list[dict[str, str]]:
        return [*json.loads((self.root / DEBT_FILE).read_text())["data"], DEBT_MISPRINT_DAY]

    @cached_property
    def mspd_records(self) -> list[dict[str, str]]:
        """The website download in the API's layout (CONSTRUCTED, see the module docstring)."""
        text = (self.root / MSPD_CSV).read_text(encoding="utf-8-sig")
        header, *rows = list(csv.reader(io.StringIO(text)))
        out, line_in_month = [], {}
        for row in rows:
            record = {MSPD_LABELS[h]: v for h, v in zip(header, row)}
            day = date.fromisoformat(record["record_date"])
            line_in_month[day] = line_in_month.get(day, 0) + 1
            out.append(
                {
                    **record,
                    "src_line_nbr": str(line_in_month[day]),
                    "record_fiscal_year": str(day.year + 1 if day.month >= 10 else day.year),
                    "record_fiscal_quarter": str(((day.month - 10) % 12) // 3 + 1),
                    "record_calendar_year": str(day.year),
                    "record_calendar_quarter": str((day.month - 1) // 3 + 1),
                    "record_calendar_month": f"{day.month:02d}",
                    "record_calendar_day": f"{day.day:02d}",
                }
            )
        return out

    # --- WSGI -----------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        self.requests.append((path, params))
        status, content_type, body, headers = "200 OK", "application/json", b"", {}
        try:
            if path == AUCTIONS_PATH:
                body = json.dumps(fiscaldata.query(self.auction_records, self.auction_spec, params)).encode()
            elif path == UPCOMING_PATH:
                body = json.dumps(fiscaldata.query(self.upcoming, UPCOMING_AUCTIONS_FIELDS, params)).encode()
            elif path.startswith(YIELD_CSV_PREFIX):
                content_type = "text/csv; charset=utf-8"
                body = self.curve_csv(int(path[len(YIELD_CSV_PREFIX) :].split("/")[0]))
            elif path == SOCRATA:
                rows, headers = socrata.query(self.tff_table, params)
                body = json.dumps(rows).encode()
            elif path == f"{TIC_ROOT}/mfhhis01.txt":
                content_type, body = "text/plain", self.tic_history
            elif path == f"{TIC_ROOT}/slt_table5.txt":
                content_type, body = "text/plain", self.tic_current
            elif path.startswith(PD_ROOT + "/get/"):
                body = self.primary_dealers(path[len(PD_ROOT) + 1 :])
            elif path.startswith(NYFED_ROOT + "/rates/") and path.endswith("/search.json"):
                rate_type = path.split("/")[-2].upper()
                body = self.reference_rates(rate_type, params.get("startDate"), params.get("endDate"))
            elif path == NYFED_ROOT + "/rp/all/all/results/search.json":
                body = self.repo_operations(params.get("startDate"), params.get("endDate"))
            elif path == f"{FRED_ROOT}/fredgraph.csv":
                content_type = "text/csv"
                try:
                    body = self.fred(params.get("id", ""), params.get("cosd"), params.get("coed"))
                except KeyError:
                    status, body = "404 Not Found", b"Series not found"
            elif path == SOMA_ROOT + "/asofdates/list.json":
                body = (self.root / SOMA_DATES).read_bytes()
            elif path == SOMA_ROOT + "/agency/get/agency debts/asof/2019-01-02.json":
                body = (self.root / SOMA_AGENCY).read_bytes()
            elif path.startswith(SOMA_ROOT + "/tsy/get/all/asof/"):
                body = b'{"soma": { "holdings": [] } }'
            elif path == DEBT_TO_THE_PENNY_PATH:
                body = json.dumps(fiscaldata.query(self.debt_to_the_penny, DEBT_TO_THE_PENNY_FIELDS, params)).encode()
            elif path == MSPD_TABLE_1_PATH:
                body = json.dumps(fiscaldata.query(self.mspd_records, MSPD_TABLE_1_FIELDS, params)).encode()
            else:
                status, content_type, body = "404 Not Found", "text/plain", f"no such path {path}".encode()
        except (fiscaldata.QueryError, socrata.SoQLError, ValueError) as exc:
            status, body = "400 Bad Request", json.dumps({"error": str(exc)}).encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers.items()])
        return [body]


@contextmanager
def replay_server(reference_root: Path) -> Iterator[tuple[Replay, dict[str, str]]]:
    """(the replay, {source: base URL}) served on 127.0.0.1 for the duration."""
    replay = Replay(reference_root)
    with serve(replay) as root:
        yield replay, base_urls(root)
