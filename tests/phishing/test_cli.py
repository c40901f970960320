"""``vigile phishing watchlist`` and ``vigile mail check`` end to end: JSON, CSV, the feed,
an mbox and a Maildir, and errors without tracebacks."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest

from tests.phishing.conftest import DATA
from tests.respond.sample import run

GOLDEN = Path(__file__).parent / "golden"
WINDOW = ("--since", "2021-05-20T00:00:00Z", "--until", "2021-05-31T00:00:00Z")


@pytest.fixture
def with_incident(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIGILE_DB", "cli.db")
    monkeypatch.setenv("VIGILE_PHISH_PROVIDER_DOMAINS", "vigile.example")
    assert run(capsys, "ingest", str(DATA))[0] == 0
    opened = run(capsys, "incident", "open", "--title", "t", "--agent", "a-0017", *WINDOW)
    assert opened[0] == 0


@pytest.mark.usefixtures("with_incident")
def test_watchlist_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "phishing", "watchlist", "INC-0001", "--format", "json")
    assert code == 0
    addresses = [a["address"] for a in json.loads(out)["addresses"]]
    assert "ann@ministry.example" in addresses
    code, out, _ = run(capsys, "phishing", "watchlist", "INC-0001", "--format", "csv")
    assert out.startswith("address,kind,id,status")
    feed = tmp_path / "feed"
    code, _, _ = run(
        capsys, "phishing", "watchlist", "INC-0001", "--format", "feed", "-o", str(feed)
    )
    assert code == 0
    assert "ann@ministry.example PREPEND X-Vigile-Watched: INC-0001" in feed.read_text()
    code, out, _ = run(capsys, "phishing", "watchlist", "INC-0001")
    assert code == 0
    assert "Watch list" in out
    code, _, err = run(capsys, "phishing", "watchlist", "INC-0404")
    assert code == 1
    assert "INC-0404" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("with_incident")
def test_mail_check_files_mbox_and_maildir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    box = mailbox.mbox(tmp_path / "inbox.mbox")
    for name in ("en-targeted", "en-genuine"):
        box.add((GOLDEN / f"{name}.eml").read_bytes())
    box.close()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add((GOLDEN / "fr-payment-change.eml").read_bytes())
    code, out, _ = run(
        capsys,
        "mail",
        "check",
        str(GOLDEN / "fr-urgency.eml"),
        str(tmp_path / "inbox.mbox"),
        str(tmp_path / "Maildir"),
        "--format",
        "json",
    )
    assert code == 0
    found = {m["where"]: m["verdict"] for m in json.loads(out)["messages"]}
    assert found == {
        str(GOLDEN / "fr-urgency.eml"): "clean",
        f"{tmp_path / 'inbox.mbox'}#1": "phishing",
        f"{tmp_path / 'inbox.mbox'}#2": "clean",
        next(iter(k for k in found if "/Maildir/new/" in k)): "phishing",
    }
    code, out, _ = run(capsys, "mail", "check", str(GOLDEN / "en-targeted.eml"))
    assert code == 0
    assert "phishing" in out
    words = " ".join(out.split())  # the terminal wraps the text where its width ends
    assert "new bank details" in words or "update your payment method" in words


@pytest.mark.usefixtures("with_incident")
def test_mail_check_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "mail", "check", str(tmp_path / "missing.eml"))
    assert code == 1
    assert "missing.eml: cannot read" in err
    (tmp_path / "folder").mkdir()
    code, _, err = run(capsys, "mail", "check", str(tmp_path / "folder"))
    assert code == 1
    assert "Maildir" in err
    code, _, err = run(capsys, "mail", "check", str(GOLDEN / "en-genuine.eml"), "--incident", "X")
    assert code == 1
    assert "Traceback" not in err


def test_gateway_token(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "mail", "gateway-token")
    assert code == 0
    credential = out.splitlines()[0].removeprefix("credential: ")
    assert credential.startswith("vgmg_")
    assert out.splitlines()[1].startswith("VIGILE_PHISH_GATEWAY_TOKEN=")
