"""Load on the platform through its gateway. ``benchmarks`` measures what the gateway and the
toxic mesh cost and how many checkouts complete per second; Locust journeys with SLO
thresholds are still to be written (ARCHITECTURE.md)."""
