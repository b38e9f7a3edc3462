"""The parse pool: many messages parsed in worker processes, results in input
order. ``_pool`` is the pool, ``_jobs`` its job functions, ``_protocol`` the wire
protocol, ``_process`` the caller's side of a worker and ``_main`` the worker's main
(``_extractor`` the same program under the attachment extractor's name).

Internal: the package's API is what ``mailatlas_clean`` exports.
"""
