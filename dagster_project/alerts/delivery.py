"""Alert delivery: the rows of mart_stress_alerts, each delivered once to every configured sink.

The sinks, from the environment (one variable per setting; `.env.example` lists them):

- a JSON-lines file, always on: TREASURY_ALERTS_FILE (default alerts.jsonl in data/alerts beside the serving file);
- a webhook, Slack-compatible (`{"text": ...}` plus the alert's fields): TREASURY_ALERT_WEBHOOK_URL;
- email over SMTP: TREASURY_SMTP_HOST, TREASURY_SMTP_PORT (25), TREASURY_SMTP_STARTTLS (0/1),
  TREASURY_SMTP_USER and TREASURY_SMTP_PASSWORD (optional), TREASURY_SMTP_FROM, TREASURY_ALERT_EMAIL_TO (comma-separated).

Which alerts: those made public in the TREASURY_ALERT_LOOKBACK_DAYS (default 7) up to the published build's as-of
date, so switching alerts on does not mail the whole history. What was delivered where is a set of alert keys per
sink (the sensor's cursor): a key is added only after its sink accepted it, so a failed delivery is tried again on the
next evaluation and a delivered one never again. Each delivery is tried ATTEMPTS times with a short backoff before it
is left for the next evaluation.
"""

from __future__ import annotations

import json
import os
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import requests

from ingestion.common.warehouse import connect

ALERTS_FILE_ENV = "TREASURY_ALERTS_FILE"
WEBHOOK_ENV = "TREASURY_ALERT_WEBHOOK_URL"
SMTP_HOST_ENV = "TREASURY_SMTP_HOST"
SMTP_PORT_ENV = "TREASURY_SMTP_PORT"
SMTP_STARTTLS_ENV = "TREASURY_SMTP_STARTTLS"
SMTP_USER_ENV = "TREASURY_SMTP_USER"
SMTP_PASSWORD_ENV = "TREASURY_SMTP_PASSWORD"
SMTP_FROM_ENV = "TREASURY_SMTP_FROM"
EMAIL_TO_ENV = "TREASURY_ALERT_EMAIL_TO"
LOOKBACK_ENV = "TREASURY_ALERT_LOOKBACK_DAYS"
DEFAULT_LOOKBACK_DAYS = 7
ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 2.0)
FIELDS = ("alert_key", "rule", "subject", "event_date", "public_at_et", "value", "threshold", "message")


@dataclass(frozen=True)
class Alert:
    alert_key: str
    rule: str
    subject: str
    event_date: str
    public_at_et: str
    value: float | None
    threshold: float | None
    message: str

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}


def read_alerts(serving: Path, since: date, until: date) -> list[Alert]:
    """Alerts made public from `since` to `until` (New York dates), oldest first, from the serving file."""
    with connect(serving) as con:
        rows = con.execute(
            f"select {', '.join(FIELDS)} from marts.mart_stress_alerts "
            "where cast(public_at_et as date) between ? and ? order by public_at_et, alert_key",
            [since, until],
        ).fetchall()
    return [
        Alert(key, rule, subject, str(event), str(public), value, threshold, message)
        for key, rule, subject, event, public, value, threshold, message in rows
    ]


def lookback_days() -> int:
    raw = os.environ.get(LOOKBACK_ENV, "").strip()
    try:
        return int(raw) if raw else DEFAULT_LOOKBACK_DAYS
    except ValueError as exc:
        raise ValueError(f"{LOOKBACK_ENV}={raw!r} is not a whole number of days") from exc


def window(as_of: date) -> tuple[date, date]:
    return as_of - timedelta(days=lookback_days() - 1), as_of


# --- sinks ----------------------------------------------------------------------------------------------------------
class JsonLinesSink:
    """Appends one JSON object per alert; keys already in the file are never written again."""

    name = "file"

    def __init__(self, path: Path):
        self.path = path
        self._written: set[str] | None = None  # the keys already in the file, read once per evaluation

    def send(self, alert: Alert) -> None:
        if self._written is None:
            lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
            self._written = {json.loads(line).get("alert_key") for line in lines if line.strip()}
        if alert.alert_key in self._written:
            return  # written by an evaluation whose cursor was lost: not twice
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(alert.as_dict()) + "\n")
            out.flush()
            os.fsync(out.fileno())
        self._written.add(alert.alert_key)


class WebhookSink:
    """A JSON POST that Slack's incoming webhooks (and most chat tools) accept: `text`, plus the alert's fields."""

    name = "webhook"

    def __init__(self, url: str):
        self.url = url

    def send(self, alert: Alert) -> None:
        body = {"text": f"Treasury stress alert ({alert.rule}): {alert.message}", "alert": alert.as_dict()}
        response = requests.post(self.url, json=body, timeout=15)
        if not response.ok:
            raise RuntimeError(f"HTTP {response.status_code} from {self.url}: {response.text[:200]}")


class EmailSink:
    name = "email"

    def __init__(
        self, host: str, port: int, sender: str, recipients: list[str], starttls: bool, user: str, password: str
    ):
        self.host, self.port, self.sender, self.recipients = host, port, sender, recipients
        self.starttls, self.user, self.password = starttls, user, password

    def send(self, alert: Alert) -> None:
        message = EmailMessage()
        message["Subject"] = f"[treasury alert] {alert.rule}: {alert.subject} ({alert.event_date})"
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["X-Treasury-Alert-Key"] = alert.alert_key
        lines = [alert.message, ""] + [f"{name}: {value}" for name, value in alert.as_dict().items()]
        message.set_content("\n".join(lines))
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


def sinks_from_env(serving: Path) -> list:
    sinks: list = [JsonLinesSink(Path(os.environ.get(ALERTS_FILE_ENV) or serving.parent / "alerts" / "alerts.jsonl"))]
    if os.environ.get(WEBHOOK_ENV):
        sinks.append(WebhookSink(os.environ[WEBHOOK_ENV]))
    if os.environ.get(SMTP_HOST_ENV):
        recipients = [r.strip() for r in os.environ.get(EMAIL_TO_ENV, "").split(",") if r.strip()]
        sender = os.environ.get(SMTP_FROM_ENV, "")
        if not recipients or not sender:
            raise ValueError(f"{SMTP_HOST_ENV} is set: {SMTP_FROM_ENV} and {EMAIL_TO_ENV} are needed too")
        sinks.append(
            EmailSink(
                os.environ[SMTP_HOST_ENV],
                int(os.environ.get(SMTP_PORT_ENV) or 25),
                sender,
                recipients,
                os.environ.get(SMTP_STARTTLS_ENV, "").strip().lower() in ("1", "true", "yes", "on"),
                os.environ.get(SMTP_USER_ENV, ""),
                os.environ.get(SMTP_PASSWORD_ENV, ""),
            )
        )
    return sinks


# --- delivery -------------------------------------------------------------------------------------------------------
@dataclass
class Delivered:
    """Alert keys each sink accepted: the sensor's cursor."""

    keys: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> Delivered:
        if not cursor:
            return cls()
        return cls({sink: set(keys) for sink, keys in json.loads(cursor)["delivered"].items()})

    def to_cursor(self) -> str:
        return json.dumps({"delivered": {sink: sorted(keys) for sink, keys in sorted(self.keys.items())}})

    def has(self, sink: str, key: str) -> bool:
        return key in self.keys.get(sink, set())

    def add(self, sink: str, key: str) -> None:
        self.keys.setdefault(sink, set()).add(key)


@dataclass
class Outcome:
    sent: dict[str, int] = field(default_factory=dict)  # sink -> alerts delivered now
    failed: list[str] = field(default_factory=list)  # "sink alert_key: error" after every attempt
    considered: int = 0

    def summary(self) -> str:
        sent = ", ".join(f"{n} to {sink}" for sink, n in self.sent.items() if n) or "nothing new"
        text = f"{self.considered} alerts in the window; delivered {sent}"
        if self.failed:
            text += f"; {len(self.failed)} deliveries failed and will be retried: " + "; ".join(self.failed[:5])
        return text


def deliver(
    alerts: list[Alert], sinks: list, delivered: Delivered, sleep: Callable[[float], None] = time.sleep
) -> Outcome:
    """Send each alert to each sink that has not accepted it yet; `delivered` is updated as sinks accept."""
    outcome = Outcome(sent={sink.name: 0 for sink in sinks}, considered=len(alerts))
    for alert in alerts:
        for sink in sinks:
            if delivered.has(sink.name, alert.alert_key):
                continue
            for attempt in range(ATTEMPTS):
                try:
                    sink.send(alert)
                # Network and SMTP errors are OSErrors (requests.RequestException, smtplib.SMTPException too), an HTTP
                # refusal a RuntimeError: retried, then reported, never lost.
                except (OSError, RuntimeError, ValueError) as exc:
                    if attempt + 1 == ATTEMPTS:
                        outcome.failed.append(f"{sink.name} {alert.alert_key}: {exc}")
                    else:
                        sleep(BACKOFF_SECONDS[attempt])
                    continue
                delivered.add(sink.name, alert.alert_key)
                outcome.sent[sink.name] += 1
                break
    return outcome
