"""Who the fuzzer is: the WFC identities live in the harness (chaos.fuzz.wfc), shared by the
suite and `crashcart fuzz`; re-exported here for the suite's modules."""

from __future__ import annotations

from chaos.fuzz.wfc import LOGIN_PATH, Credentials, wfc_login_entry, write_wfc_file

__all__ = ["LOGIN_PATH", "Credentials", "wfc_login_entry", "write_wfc_file"]
