"""The live side: Kubernetes clients, discovery, the watch-based cache, destinations, tracking.

``cluster`` (``ClusterConnection``: one cluster's client, discovery, cache and writes)
over ``kubeclient`` (HTTP), ``discovery`` (served kinds), ``live_cache`` (live objects
and their indexes) fed by ``kind_watch`` (list + watch of one kind).
"""
