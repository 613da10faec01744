"""Binding a server's socket: a taken port or a foreign address is one clear error."""

from __future__ import annotations

import socket

import pytest

from core.errors import ConfigError, PortInUse
from core.server_thread import ServerThread, bind_socket, ensure_free


def test_a_taken_port_names_itself_and_the_setting_to_change():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is already in use") as err:
            ensure_free("127.0.0.1", port, setting="FDE_API_PORT")
        assert "FDE_API_PORT" in err.value.hint and f":{port}" in err.value.hint
        with pytest.raises(PortInUse):  # the servers the demo starts say the same
            ServerThread(object(), port=port)
    ensure_free("127.0.0.1", 0)  # any port: nothing to check


def test_an_address_of_another_machine_is_a_config_error():
    with pytest.raises(ConfigError, match="cannot listen on 192.0.2.1"):
        bind_socket("192.0.2.1", 0, setting="FDE_API_HOST")
