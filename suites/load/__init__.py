"""Load suite: Locust journeys against the running platform, judged by SLO gates."""
