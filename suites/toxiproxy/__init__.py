"""Conformance suite for a Toxiproxy 2.x server: the admin API and the data path, driven only
over HTTP and real sockets, so it runs unchanged against a real Toxiproxy (TOXIPROXY_URL)."""
