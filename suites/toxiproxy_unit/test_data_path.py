"""Development checks of the embedded server's data path over real sockets."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from .conftest import Api, Echo


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = sock.recv(size - len(data))
        if not part:
            break
        data += part
    return data


def test_echo_large_message(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    payload = bytes(range(256)) * 4096
    with socket.create_connection(("127.0.0.1", port)) as conn:
        threading.Thread(target=conn.sendall, args=(payload,), daemon=True).start()
        assert recv_exactly(conn, len(payload)) == payload


def test_latency_upstream_and_downstream_add(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    api.toxic("e", type="latency", stream="upstream", attributes={"latency": 50})
    api.toxic("e", type="latency", attributes={"latency": 50})
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started = time.monotonic()
        conn.sendall(b"ping")
        assert recv_exactly(conn, 4) == b"ping"
        assert 0.1 <= time.monotonic() - started < 0.16


def test_bandwidth_paces_bytes(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    api.toxic("e", type="bandwidth", attributes={"rate": 1000})
    payload = b"x" * 480_000
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started = time.monotonic()
        threading.Thread(target=conn.sendall, args=(payload,), daemon=True).start()
        assert recv_exactly(conn, len(payload)) == payload
        assert 0.44 <= time.monotonic() - started < 0.56


def test_bandwidth_zero_stalls_then_flushes_on_removal(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    api.toxic("e", type="bandwidth", attributes={"rate": 0})
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"held")
        conn.settimeout(0.3)
        with pytest.raises(TimeoutError):
            conn.recv(10)
        assert api.call("DELETE", "/proxies/e/toxics/bandwidth_downstream")[0] == 204
        conn.settimeout(2)
        assert recv_exactly(conn, 4) == b"held"


def test_reset_peer_sends_rst(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    api.toxic("e", type="reset_peer", attributes={"timeout": 100})
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started = time.monotonic()
        conn.sendall(b"hi")
        with pytest.raises(ConnectionResetError):
            conn.recv(10)
        assert 0.1 <= time.monotonic() - started < 0.15


def test_limit_data_truncates_then_closes(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    api.toxic("e", type="limit_data", attributes={"bytes": 5})
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"abcdefgh")
        assert recv_exactly(conn, 100) == b"abcde"


def test_timeout_removal_closes_connection(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    api.toxic("e", type="timeout", attributes={"timeout": 0})
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"dropped")
        time.sleep(0.1)
        assert api.call("DELETE", "/proxies/e/toxics/timeout_downstream")[0] == 204
        conn.settimeout(2)
        assert conn.recv(10) == b""


def test_timeout_closes_after_silence(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    api.toxic("e", type="timeout", attributes={"timeout": 100})
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started = time.monotonic()
        conn.settimeout(2)
        assert conn.recv(10) == b""
        assert 0.1 <= time.monotonic() - started < 0.2


def test_slicer_one_byte_pieces(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    api.toxic("e", type="slicer", attributes={"average_size": 1, "size_variation": 0, "delay": 0})
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"abcdef" * 100)
        assert recv_exactly(conn, 600) == b"abcdef" * 100


def test_invalid_slicer_is_400(api: Api) -> None:
    api.proxy("e", 1)
    status, body = api.call("POST", "/proxies/e/toxics", {"type": "slicer", "attributes": {"average_size": 0}})
    assert status == 400, body


def test_no_data_lost_while_toxics_churn(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    payload = b"".join(i.to_bytes(4, "big") for i in range(65_535))
    with socket.create_connection(("127.0.0.1", port)) as conn:
        received: list[bytes] = []
        reader = threading.Thread(target=lambda: received.append(recv_exactly(conn, len(payload))))
        reader.start()
        writer = threading.Thread(
            target=lambda: [conn.sendall(payload[i : i + 4]) for i in range(0, len(payload), 4)]
        )
        writer.start()
        while writer.is_alive():
            api.toxic("e", type="latency", name="l1", stream="upstream", attributes={"latency": 1})
            api.toxic("e", type="slicer", name="s", attributes={"average_size": 7, "size_variation": 3})
            api.call("DELETE", "/proxies/e/toxics/l1")
            api.call("DELETE", "/proxies/e/toxics/s")
        reader.join(20)
        assert received and received[0] == payload


def test_disable_closes_live_connections(api: Api, echo: Echo) -> None:
    port = api.proxy("e", echo.port)
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"x")
        assert conn.recv(1) == b"x"
        assert api.call("POST", "/proxies/e", {"enabled": False})[0] == 200
        conn.settimeout(2)
        assert conn.recv(1) == b""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    assert api.call("POST", "/proxies/e", {"enabled": True})[1]["listen"] == f"127.0.0.1:{port}"


def _jitter_delays(api: Api, echo: Echo) -> list[float]:
    port = api.proxy("j", echo.port)
    api.toxic("j", type="latency", attributes={"latency": 20, "jitter": 15})
    api.toxic("j", type="timeout", name="maybe", stream="upstream", toxicity=0.5, attributes={"timeout": 0})
    outcome = []
    for _ in range(6):
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.settimeout(0.15)
            started = time.monotonic()
            conn.sendall(b"x")
            try:
                conn.recv(1)
                outcome.append(round((time.monotonic() - started) * 100))
            except TimeoutError:
                outcome.append(-1)
    api.call("DELETE", "/proxies/j")
    return outcome


def test_same_seed_same_decisions(api: Api, echo: Echo) -> None:
    first, second = _jitter_delays(api, echo), _jitter_delays(api, echo)
    assert -1 in first and any(value >= 0 for value in first)
    assert [v < 0 for v in first] == [v < 0 for v in second]
