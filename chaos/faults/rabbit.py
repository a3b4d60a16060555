"""``rabbitmqctl`` for the broker faults (the broker has no management API enabled here).

The broker runs on this machine (the topology's ``[rabbitmq]``); ``rabbitmqctl`` talks to
its node over Erlang distribution, so it reaches the broker directly, never through a proxy.
"""

from __future__ import annotations

import shutil
import subprocess


class RabbitCtlError(RuntimeError):
    pass


def rabbitmqctl(*args: str, timeout_s: float = 30.0) -> str:
    binary = shutil.which("rabbitmqctl")
    if binary is None:
        raise RabbitCtlError("rabbitmqctl is not on PATH (broker faults need it)")
    done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout_s,
                          check=False)
    if done.returncode != 0:
        raise RabbitCtlError(f"rabbitmqctl {' '.join(args[:2])} failed ({done.returncode}): "
                             f"{(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout.strip()


def _erl_binary(text: str) -> str:
    if not all(c.isalnum() or c in "-_./" for c in text):
        raise ValueError(f"unsafe name for an Erlang literal: {text!r}")
    return f'<<"{text}">>'


def close_consumer_channels(vhost: str, connection_name: str) -> int:
    """Make the broker close every consuming channel of the named connection; return how many.

    The channel process is handed a ``basic.ack`` for a delivery tag it never issued, so
    the broker itself raises ``PRECONDITION_FAILED`` and closes that channel with a
    ``channel.close`` — exactly what a client sees when the broker closes its channel; the
    connection and the service's other channels stay open.
    """
    expr = (
        "length([rabbit_channel:do(P, {'basic.ack', 987654321, false}) || "
        "P <- rabbit_channel:list(), "
        "[{vhost, V}, {consumer_count, C}, {connection, Conn}] <- "
        "[rabbit_channel:info(P, [vhost, consumer_count, connection])], "
        f"V =:= {_erl_binary(vhost)}, C > 0, "
        "proplists:get_value(<<\"connection_name\">>, [{K, Val} || {K, _, Val} <- "
        "proplists:get_value(client_properties, "
        "rabbit_networking:connection_info(Conn, [client_properties]))]) =:= "
        f"{_erl_binary(connection_name)}]).")
    out = rabbitmqctl("eval", expr)
    try:
        return int(out.splitlines()[-1])
    except (ValueError, IndexError):
        raise RabbitCtlError(f"unexpected rabbitmqctl eval output: {out!r}") from None


def consumer_channels(vhost: str, connection_name: str) -> list[str]:
    """The broker-side ids (Erlang pids) of the named connection's consuming channels."""
    expr = (
        "[list_to_binary(pid_to_list(P)) || P <- rabbit_channel:list(), "
        "[{vhost, V}, {consumer_count, C}, {connection, Conn}] <- "
        "[rabbit_channel:info(P, [vhost, consumer_count, connection])], "
        f"V =:= {_erl_binary(vhost)}, C > 0, "
        "proplists:get_value(<<\"connection_name\">>, [{K, Val} || {K, _, Val} <- "
        "proplists:get_value(client_properties, "
        "rabbit_networking:connection_info(Conn, [client_properties]))]) =:= "
        f"{_erl_binary(connection_name)}].")
    out = rabbitmqctl("eval", expr)
    return [part.strip(' <>"[]\n') for part in out.split(",") if "." in part]
