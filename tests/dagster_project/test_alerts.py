"""Alert delivery for real: the sensor sends the sample build's alerts to an HTTP receiver and an SMTP server on
loopback and to the JSON-lines file, each once; a second evaluation sends nothing; a receiver that fails twice then
recovers gets each alert once; a receiver that stays down is reported in the tick and caught up later."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from contextlib import contextmanager
from email import message_from_bytes, policy

import dagster as dg
import duckdb
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import AS_OF

LOOKBACK_DAYS = 90  # from 2025-04-02: the April 2025 episode and the June alerts of the sample


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A webhook on loopback that answers 500 to its first `failures` requests, then records each JSON body."""

    def __init__(self, failures: int = 0):
        self.failures, self.received, self.requests = failures, [], 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                if receiver.requests <= receiver.failures:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys(self) -> list[str]:
        return [body["alert"]["alert_key"] for body in self.received]


class Mailbox:
    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def __init__(self):
        self.messages = []


@contextmanager
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@pytest.fixture
def published(sample_build, tmp_path, monkeypatch):
    """An instance whose latest publish is the sample build's serving file (as of AS_OF); the sinks' settings."""
    _, serving = sample_build.copy_to(tmp_path / "build")
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=["publish", "serving_file"], metadata={"path": str(serving), "as_of": AS_OF.isoformat()}
        )
    )
    monkeypatch.setenv("TREASURY_ALERTS_FILE", str(tmp_path / "alerts.jsonl"))
    monkeypatch.setenv("TREASURY_ALERT_LOOKBACK_DAYS", str(LOOKBACK_DAYS))
    monkeypatch.delenv("TREASURY_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("TREASURY_SMTP_HOST", raising=False)
    with duckdb.connect(str(serving), read_only=True) as con:
        expected = [
            key
            for (key,) in con.execute(
                "select alert_key from marts.mart_stress_alerts where public_at_et::date "
                "between ?::date - ? and ? order by public_at_et, alert_key",
                [AS_OF, LOOKBACK_DAYS - 1, AS_OF],
            ).fetchall()
        ]
    return instance, expected, tmp_path / "alerts.jsonl"


def evaluate(instance, cursor=None):
    from dagster_project.definitions import defs

    sensor = defs().get_sensor_def("deliver_stress_alerts")
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_each_alert_reaches_the_webhook_the_mailbox_and_the_file_once(published, monkeypatch):
    instance, expected, jsonl = published
    # The April 2025 episode is in the window: the weak 3-year (dealers took 34%), the 30-year's close above 5% and
    # the flagged week.
    assert "weak_auction_dealer_takedown|Note 3-Year (91282C853)|2025-04-08" in expected
    assert "yield_level_crossing|30-year par yield|2025-04-09" in expected
    assert "stress_week|composite stress score|2025-04-11" in expected
    assert "stress_week|composite stress score|2025-04-04" in expected  # the week before was flagged too
    receiver = Receiver()
    with smtp_server() as (port, mailbox):
        monkeypatch.setenv("TREASURY_ALERT_WEBHOOK_URL", receiver.url)
        monkeypatch.setenv("TREASURY_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("TREASURY_SMTP_PORT", str(port))
        monkeypatch.setenv("TREASURY_SMTP_FROM", "warehouse@localhost")
        monkeypatch.setenv("TREASURY_ALERT_EMAIL_TO", "desk@localhost, risk@localhost")
        first = evaluate(instance)
        assert receiver.keys() == expected
        stress = next(
            b
            for b in receiver.received
            if b["alert"]["rule"] == "stress_week" and b["alert"]["event_date"] == "2025-04-11"
        )
        assert stress["text"].startswith("Treasury stress alert (stress_week): Stress week ending 2025-04-11")
        assert [m["X-Treasury-Alert-Key"].strip() for _, m in mailbox.messages] == expected
        rcpts, crossing = next((r, m) for r, m in mailbox.messages if "2025-04-09" in m["Subject"])
        assert rcpts == ["desk@localhost", "risk@localhost"]
        assert crossing["Subject"] == "[treasury alert] yield_level_crossing: 30-year par yield (2025-04-09)"
        assert "The 30-year closed at 5.02%" in crossing.get_content()
        lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
        assert [line["alert_key"] for line in lines] == expected
        assert f"delivered {len(expected)} to file, {len(expected)} to webhook, {len(expected)} to email" in str(
            first.skip_reason
        )

        second = evaluate(instance, first.cursor)  # nothing new since
        assert receiver.keys() == expected and len(mailbox.messages) == len(expected)
        assert len(jsonl.read_text().splitlines()) == len(expected)
        assert "delivered nothing new" in str(second.skip_reason)


def test_a_receiver_that_fails_twice_then_recovers_gets_each_alert_once(published, monkeypatch):
    instance, expected, _ = published
    receiver = Receiver(failures=2)
    monkeypatch.setenv("TREASURY_ALERT_WEBHOOK_URL", receiver.url)
    result = evaluate(instance)
    assert receiver.requests == len(expected) + 2
    assert receiver.keys() == expected  # the first alert on its third attempt, the rest at once
    assert "failed" not in str(result.skip_reason)


def test_a_receiver_that_stays_down_is_reported_and_caught_up_later(published, monkeypatch):
    instance, expected, jsonl = published
    down = f"http://127.0.0.1:{_free_port()}/hook"  # nothing listens there
    monkeypatch.setenv("TREASURY_ALERT_WEBHOOK_URL", down)
    monkeypatch.setattr("dagster_project.alerts.delivery.BACKOFF_SECONDS", (0.0, 0.0))
    failed = evaluate(instance)
    reason = str(failed.skip_reason)
    assert f"{len(expected)} deliveries failed and will be retried" in reason and "webhook" in reason
    assert len(jsonl.read_text().splitlines()) == len(expected)  # the file sink is not held up by the webhook
    receiver = Receiver()
    monkeypatch.setenv("TREASURY_ALERT_WEBHOOK_URL", receiver.url)
    caught_up = evaluate(instance, failed.cursor)
    assert receiver.keys() == expected
    assert f"delivered {len(expected)} to webhook" in str(caught_up.skip_reason)
    assert len(jsonl.read_text().splitlines()) == len(expected)  # and the file got nothing twice


def test_nothing_published_yet_is_a_skip(tmp_path):
    result = evaluate(dg.DagsterInstance.ephemeral())
    assert isinstance(result, dg.SkipReason) and "nothing published yet" in str(result.skip_message)
