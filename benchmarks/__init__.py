"""Benchmarks: ``python -m benchmarks`` (``make bench``); not part of the test run.

Starts its own sandbox (2 kwok nodes) in a temp directory, builds real Git
repositories (GitPython, ``file://``), runs the scenarios, prints a table and
writes ``bench-results/report-<date>.json``. Every figure carries its target and
the command that reproduces it, met or not. Time comparisons are ratios against
a peer (``kubectl``) measured in the same run.

    1  N apps x 10 objects, all synced: cold start to every status known; warm re-compare
    2  drift (a patch on a managed object): time until the snapshot says OutOfSync
    3  local git commit on a watched repo: time until OutOfSync
    4  diff of one 50-object app: ``gitops-tui diff`` vs ``kubectl diff --server-side``
    5  sync of one 50-object app (create): ``gitops-tui sync`` vs ``kubectl apply --server-side``
    6  first sync of N apps x 10 objects (also the setup of 1, 2, 3 and 8)
    7  the TUI with 2,000 apps (synthetic engine): first paint, key latency, RSS
    8  idle: API requests beyond watches, CPU of the process, bytes written to the terminal

``--quick`` is 100 apps, fewer runs and a 60 s idle window. ``--profile N``
writes a pyinstrument profile (HTML and text) of scenario N. pyinstrument's own
profiler follows one thread; the engine works on thread pools, so for engine
scenarios a sampler of every thread feeds a pyinstrument ``Session`` instead.
"""
