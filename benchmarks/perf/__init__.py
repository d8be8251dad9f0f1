"""The performance suite: one command (``bash benchmarks/run_performance.sh``) writes
``docs/results/performance.md``.

Every speed figure is a ratio of two variants measured side by side in one process: single steps of the two
alternate (the order swaps every pair) on the same batches from the same starting weights, after warm-up steps
on both sides; the figure is the median of the per-pair ratios with a bootstrap 95% confidence interval
(``stats``). One module per measurement; ``sizes`` holds the step counts of the full and the ``--quick`` run.
"""
