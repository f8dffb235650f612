"""`make bench`: intake and follow-up throughput of gridsnap, next to the floors it cannot beat.

Run with `python -m bench.run` (see bench/run.py; the current figures are in
docs/benchmarks.md, every run in docs/benchmarks-history.md). Everything it starts (gunicorn,
relay, RQ workers) is its own and is stopped on exit; it uses its own database
(`gridsnap_bench`), Redis db index 5 and ports 18000–18010.
"""
