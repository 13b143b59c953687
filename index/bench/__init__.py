"""``newsbot bench``: the whole product measured on this machine, in one run.

``run.run_bench`` orchestrates; ``ingest`` times the write path against bare encoding;
``synthetic`` grows the real index to 10k–1M chunks; ``probe`` measures one size in a fresh
process; ``report`` renders the tables. Nothing here is imported by the product itself.
"""
