"""The artifacts: the files the pipeline writes and reads back, and how.

``formats`` (the typed artifacts: reference.h5, run.h5, eval.h5, a damaged or foreign file a
one-line ``ArtifactError`` naming it), ``hdf5`` (generic HDF5: atomic files, attributes, groups),
``files`` (atomic writes of any file), ``provenance`` (versions, revision, device),
``checkpoint`` (a training member's state by field name).

May import: ``numerics`` (the run schema validates a stored config); never ``products``,
``workflow`` or ``interfaces``.
"""
