"""Harness-side tests of the embedded Toxiproxy: the console command, the runners, server
selection and the fault context managers (what the HTTP-only conformance suite cannot see)."""
