"""The local stack's API server (tools/local_api.py) and its ports, in-process on loopback.

A small Chalice app stands in for app.py: what is tested is the server around
it (HEAD, the access log, binding), which is the same for any app. The real
app behind the real server is tests/e2e/test_local_stack.py's job.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator

import pytest
from chalice.app import Chalice
from chalice.config import Config

from tools.dns_server import LoopbackDns, Zone
from tools.embedded_aws import EmbeddedAws
from tools.local_api import make_local_server
from tools.localstack import _port_is_free

HOST = "127.0.0.1"


def _app() -> Chalice:
    app = Chalice(app_name="local-server-test")

    @app.route("/items", methods=["GET"])
    def items() -> dict[str, list[str]]:
        return {"items": ["a", "b"]}

    @app.route("/items", methods=["POST"])
    def add_item() -> dict[str, str]:
        return {"id": "c"}

    return app


@pytest.fixture
def server() -> Iterator[int]:
    local = make_local_server(_app(), Config.create(), HOST, 0)
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    yield local.server.server_address[1]
    local.shutdown()
    local.server.server_close()


Answer = tuple[int, dict[str, str], bytes]


def _exchange(port: int, requests: list[tuple[str, str]]) -> list[Answer]:
    """Each request on one keep-alive connection: (status, headers, body) of each answer."""
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    answers = []
    try:
        for method, path in requests:
            connection.request(method, path)
            response = connection.getresponse()
            body = response.read()
            answers.append((response.status, dict(response.getheaders()), body))
    finally:
        connection.close()
    return answers


def _without_date(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("Date", "x-amzn-RequestId")}


def test_head_answers_like_get_without_a_body(server: int) -> None:
    # GIVEN a GET route, a POST-only route and no route at all
    for path, method in (("/items", "GET"), ("/items?q=x", "GET"), ("/nowhere", "GET")):
        # WHEN each is asked with GET, then HEAD, then GET again on one connection
        got, head, again = _exchange(server, [(method, path), ("HEAD", path), (method, path)])
        # THEN HEAD has the GET's status and headers (Content-Length included), no
        # body, and the connection stays in step
        assert head[0] == got[0], path
        assert _without_date(head[1]) == _without_date(got[1])
        assert head[1]["Content-Length"] == str(len(got[2])) and got[2]
        assert head[2] == b""
        assert again[:1] == got[:1] and again[2] == got[2]


def test_other_methods_still_reach_the_app(server: int) -> None:
    post, trace = _exchange(server, [("POST", "/items"), ("TRACE", "/items")])
    assert post[0] == 200 and post[2] == b'{"id":"c"}'
    # the app's 405, not http.server's HTML 501
    assert trace[0] == 405 and b"Unsupported method" in trace[2]


def test_access_log_masks_decoded_query_strings(server: int,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN searches for a person by email and by phone, encoded as browsers and curl do
    _exchange(server, [("GET", "/items?q=victim.person%40example.com&limit=5"),
                       ("GET", "/items?q=415+555+0134"),
                       ("HEAD", "/items?q=%2B44%2020%207946%200018"),
                       ("GET", "/items/ada%40acme.io"), ("GET", "/items?q=a%0Afake%20line")])
    # AND a malformed request line, which http.server logs as it came
    with socket.create_connection((HOST, server), timeout=5) as raw:
        raw.sendall(b"GET /items?q=victim.person%40example.com HTTP/1.1 extra\r\n\r\n")
        raw.recv(4096)
    # WHEN the access log is read
    log = capsys.readouterr().err
    # THEN every request was logged, with no email local part or phone digits
    assert '"GET /items?q=***@example.com&limit=5 HTTP/1.1" 200' in log
    assert '"GET /items?q=***34 HTTP/1.1" 200' in log
    assert '"HEAD /items?q=***18 HTTP/1.1" 200' in log
    assert '"GET /items/***@acme.io HTTP/1.1" 403' in log
    assert "Bad request version" in log
    for secret in ("victim.person", "415+555+0134", "555 0134", "7946", "ada%40", "ada@"):
        assert secret not in log
    # AND a decoded newline is escaped, not a forged log line
    assert "q=a\\x0afake line" in log


def _port_in_time_wait() -> int:
    """A loopback port whose last connection was closed by the server side (TIME_WAIT).

    The listener sets SO_REUSEADDR as every server of the stack does; Linux
    lets a new bind past a TIME_WAIT connection only if both sides set it.
    """
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        with socket.create_connection((HOST, port)) as client:
            accepted, _ = listener.accept()
            accepted.close()  # the side that closes first holds TIME_WAIT
            client.recv(1)
    return port


def test_a_port_in_time_wait_is_free_and_every_server_binds_it() -> None:
    # GIVEN a port that a stopped server's connections left in TIME_WAIT
    port = _port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind((HOST, port))  # without SO_REUSEADDR it is "in use"
    # WHEN the stack checks it, THEN it is free
    assert _port_is_free(port)
    # AND each of the stack's servers binds it
    api = make_local_server(_app(), Config.create(), HOST, port)
    api.server.server_close()
    EmbeddedAws(HOST, port).start().stop()
    LoopbackDns(Zone({}, default="mx"), port=port).start().stop()


def test_a_listening_port_is_still_in_use() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen()
        assert not _port_is_free(int(listener.getsockname()[1]))
