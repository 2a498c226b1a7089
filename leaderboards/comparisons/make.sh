#!/bin/sh
# Regenerates this folder from the committed store: the rho matrix of the strategies with a
# ranking and, from the same rankings, the blog's three comparisons (least confidence against
# Bayesian least confidence, DFAL and EGL), on the model of least confidence's run at seed 0.
# Run from the repository root.
set -e
for job in "quick 5" "fmnist-b100 1"; do
  set -- $job
  albench compare least-confidence margin entropy bayesian-least-confidence bayesian-entropy \
    bald variation-ratios dfal egl ensemble-entropy qbc batchbald badge typiclust random \
    --suite "$1" --seed 0 --round "$2" --results leaderboards/results \
    --out leaderboards/comparisons \
    --pair-with bayesian-least-confidence --pair-with dfal --pair-with egl
done
