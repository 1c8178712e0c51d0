"""Research scale: corpora encoded in shards, vectors on disk, blocked and FAISS search, executors.

``shards`` streams a corpus in shards of bounded size, each shard its own
stage-cache entry (a killed run resumes at the first missing shard);
``vectors`` reads the shards' memory-mapped vectors and searches them exactly
in bounded-memory blocks; ``faiss_index`` builds approximate indexes as a
cached stage; ``executors`` runs shards serially, on local processes or on a
local Ray cluster, with results identical to the serial run.
"""
