"""`leadsync sandbox serve --crm hubspot` starts a server and prints how to reach it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import requests

from cli.main import main
from connectors.salesforce import SalesforceConnector, SalesforceOptions


def test_serve_help_lists_the_options(capsys):
    assert main(["sandbox", "serve", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--crm",
        "--port",
        "--contacts",
        "--seed",
        "--latency-ms",
        "--rate-limit",
        "--tls",
    ):
        assert option in out


def test_serve_rejects_an_unknown_crm(capsys):
    assert main(["sandbox", "serve", "--crm", "pipedrive"]) == 2


#: The `sandbox` group run on its own, so the subprocess does not import every other command.
GROUP = [sys.executable, "-c", "from cli.commands.sandbox import sandbox_group; sandbox_group()"]


def test_serve_runs_until_interrupted():
    process = subprocess.Popen(
        [*GROUP, "serve", "--contacts", "25", "--seed", "4"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert info["crm"] == "hubspot"
        assert info["ca_file"] is None
        health = requests.get(f"{info['url']}/_sandbox/health", timeout=5).json()
        assert health == {"status": "ok", "contacts": 25, "seed": 4}
        contacts = requests.get(
            f"{info['url']}/crm/v3/objects/contacts",
            headers={"Authorization": f"Bearer {info['token']}"},
            timeout=5,
        )
        assert contacts.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_salesforce_branch_prints_credentials_and_serves_tls():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "sandbox",
            "serve",
            "--crm",
            "salesforce",
            "--contacts",
            "10",
            "--max-version",
            "64",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert sorted(info) == [
            "ca_file", "client_id", "client_secret", "crm", "private_key_file", "url", "username",
        ]  # fmt: skip
        assert info["url"].startswith("https://127.0.0.1:")
        reply = requests.get(f"{info['url']}/services/data", verify=info["ca_file"], timeout=5)
        assert reply.status_code < 500
        # what the line prints is enough for a JWT bearer login
        jwt = SalesforceOptions(
            login_url=info["url"],
            client_id=info["client_id"],
            username=info["username"],
            private_key_file=info["private_key_file"],
            ca_bundle=info["ca_file"],
        )
        connector = SalesforceConnector(jwt)
        try:
            pages = list(connector.iter_pages("lead", ["Title"], [], since=None))
            assert [len(page.records) for page in pages] == [10]
            assert connector.usage.by_endpoint == {"oauth2/token": 1, "describe": 1, "query": 1}
            # --max-version 64: an org without list-email results
            assert connector.list_email_access().note.startswith(
                "ListEmailSentResult not read: the org serves API versions up to 64.0,"
            )
        finally:
            connector.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_on_a_port_in_use_is_a_one_line_usage_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for crm in ("hubspot", "salesforce"):
            assert main(["sandbox", "serve", "--crm", crm, "--port", str(port)]) == 2
            err = capsys.readouterr().err
            assert err == (
                f"error: --port: cannot listen on 127.0.0.1:{port} (Address already in use); "
                "pick another --port, or 0 for a free one\n"
            )
