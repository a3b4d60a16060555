"""Fuzzing campaigns with Schemathesis against a running platform: identities (WFC), the
deep campaign behind `crashcart fuzz`, its summary and known-failure baselines."""
