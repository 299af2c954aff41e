"""The interfaces: the ``pinnfail`` command line (``cli``, its run flags ``flags``) and the
study commands' bodies (``study_job``). The Snakemake rules under ``workflow/`` are the other
interface; they call these commands.

May import: every layer below (``numerics``, ``artifacts``, ``products``, ``workflow``).
"""
